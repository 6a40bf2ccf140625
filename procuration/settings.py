"""The one settings module. Everything that changes between machines is read from the environment.

With no variable set the project runs on an embedded default: SQLite, Celery tasks executed
in-process after commit, e-mails written to var/mail/ and readable at /dev/courriels/.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured

from procuration.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# Safe by default: DEBUG is off unless set (scripts/run.sh and scripts/test.sh set the development
# variables themselves), so a production that forgets a variable gets production behaviour.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "procuration.admin_site.NationalAdminConfig",  # django.contrib.admin with our site (procuration/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "procuration",
    "mandant",
    "police",
    "mairie",
    "listes",
    "elus",
    "backoffice",
    # API v1 for the communes' software (docs/api.md)
    "rest_framework",
    "drf_spectacular",
    "api",
]

MIDDLEWARE = [
    "procuration.observability.RequestLogMiddleware",  # request id, JSON line, metrics (Operations)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "procuration.csp.CSPMiddleware",  # django-csp, its policy strings built once per process
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "procuration.urls"
WSGI_APPLICATION = "procuration.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "procuration.context_processors.site_config",  # dsfr's, kept per process
                "procuration.context_processors.portal",
            ],
        },
    },
]
# {% per_process %} fragments (header, menu, footer, django-dsfr's head tags) rendered once per process and
# key; False renders them on every request (procuration/templatetags/fragments.py, docs/performance.md).
TEMPLATE_FRAGMENTS_PER_PROCESS = True
FORM_RENDERER = "procuration.renderers.FastFormRenderer"  # django-dsfr's markup written in Python (procuration/renderers.py)

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    # The options below are psycopg's: any other database would fail at its first connection with a
    # message about a keyword. Say it at start-up instead (the embedded SQLite is the default without
    # DATABASE_URL).
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL : une base PostgreSQL est attendue (postgres://…), pas "
            f"{DATABASE_URL.split(':', 1)[0]!r} ; sans DATABASE_URL, l'application tourne sur SQLite (développement).")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding: psycopg sends parameters apart, so Python skips quoting them into the SQL
    # (bench/run_load.sh: +15 % on the counter lookup). The whole test suite runs with it.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
    # Prepared statements: a statement run DB_PREPARE_THRESHOLD times (5) on a connection is
    # prepared, and PostgreSQL stops parsing and planning it on every run. Django turns them off
    # unless asked (for transaction-mode poolers: DB_PREPARE_THRESHOLD=off there). Planning was
    # 3.5 × the execution time of the flow's statements, 61 % of PostgreSQL's CPU (docs/performance.md,
    # « Prepared statements »).
    _prepare = env_str("DB_PREPARE_THRESHOLD", "5").strip().lower()
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
        None if _prepare in ("off", "none") else env_int("DB_PREPARE_THRESHOLD", 5))
    # No JIT compilation: the pages send short indexed statements, and a plan whose estimate passes
    # jit_above_cost (a search's range, a count) paid ≈ 20 ms of LLVM compilation per run for
    # nothing (docs/performance.md, « Recherche large »). DB_JIT=true gives the server's setting back.
    if not env_bool("DB_JIT", False):
        DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "procuration.User"
# Django's and allauth's (passwords: staff only) and OpenID Connect's (electors only), each with a
# cheaper get_user; the backend of a session is its kind of login (procuration/auth.py).
AUTHENTICATION_BACKENDS = [
    "procuration.auth.ModelBackend",
    "procuration.auth.AuthenticationBackend",
    "procuration.auth.OIDCBackend",
]
PASSWORD_HASHERS = env_list(
    "PASSWORD_HASHERS",
    ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.ScryptPasswordHasher"],
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "home"
LOGIN_REDIRECT_URL = "after_login"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_ADAPTER = "procuration.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
# Failed logins (password or TOTP): 5 per account per 5 minutes, counted per device that already
# completed a TOTP login for that account (procuration/mfa.py, docs/security.md); per address high
# enough for a commissariat or a mairie behind one NAT (100+ staff, a few typos each).
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 300)
LOGINS_PER_IP_PER_MINUTE = env_int("LOGINS_PER_IP_PER_MINUTE", 300)  # every login POST (allauth: 30)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_FAILURES_PER_IP}/5m/ip,{LOGIN_FAILURES_PER_ACCOUNT}/5m/key",
    "login": f"{LOGINS_PER_IP_PER_MINUTE}/m/ip",
}
# Password reset by e-mail is for the portals' staff only (procuration/forms.py); an unknown or
# non-staff address gets the same page and no e-mail at all, so the form reveals nothing.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_FORMS = {
    "reset_password": "procuration.forms.StaffResetPasswordForm",
    "user_token": "procuration.forms.StaffUserTokenForm",
}
SOCIALACCOUNT_ADAPTER = "procuration.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_FORMS = {"authenticate": "procuration.mfa.AuthenticateForm"}  # the per-device failure counter
# A device that completed a TOTP login for an account is known for it this long (signed cookie).
KNOWN_DEVICE_MAX_AGE_DAYS = env_int("KNOWN_DEVICE_MAX_AGE_DAYS", 365)
MFA_TOTP_ISSUER = "Démarches électorales"
# Accept the code of the previous and next 30-second step too (RFC 6238 §5.2: a person types the
# code, the clocks drift); allauth refuses a code used twice, so the window does not allow replay.
MFA_TOTP_TOLERANCE = env_int("MFA_TOTP_TOLERANCE", 1)
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", True)
# Staff accounts get a single-use link to choose their password (procuration/activation.py).
STAFF_ACTIVATION_LINK_HOURS = env_int("STAFF_ACTIVATION_LINK_HOURS", 72)

# FranceConnect and France Identité are OpenID Connect providers. In dev and tests a local
# oidc-provider-mock on loopback plays both; production sets the real endpoints.
OIDC_FRANCECONNECT_URL = env_str("OIDC_FRANCECONNECT_URL", "http://127.0.0.1:9400")
OIDC_FRANCECONNECT_CLIENT_ID = env_str("OIDC_FRANCECONNECT_CLIENT_ID", "procuration-dev")
OIDC_FRANCECONNECT_SECRET = env_str("OIDC_FRANCECONNECT_SECRET", "procuration-dev-secret")
# France Identité has its own endpoint, always configured explicitly: never the FranceConnect one
# (a login there would pass for a certified one). Without OIDC_FRANCEIDENTITE_URL the
# "franceidentite" app is not configured and its button is not shown.
OIDC_FRANCEIDENTITE_URL = env_str("OIDC_FRANCEIDENTITE_URL", "")
OIDC_FRANCEIDENTITE_CLIENT_ID = env_str("OIDC_FRANCEIDENTITE_CLIENT_ID", "procuration-dev-fi")
OIDC_FRANCEIDENTITE_SECRET = env_str("OIDC_FRANCEIDENTITE_SECRET", "procuration-dev-fi-secret")
# How long a certified France Identité login counts (seconds): the 20-minute window of the France
# Identité identity check (france-identite.gouv.fr; docs/domain.md "Identité et comptes").
IDENTITY_CERTIFICATION_MAX_AGE = env_int("IDENTITY_CERTIFICATION_MAX_AGE", 20 * 60)
OIDC_SCOPE = ["openid", "profile", "email", "given_name", "family_name", "birthdate", "gender", "birthplace",
              "birthcountry"]
OIDC_APPS = [
    {
        "provider_id": "franceconnect",
        "name": "FranceConnect",
        "client_id": OIDC_FRANCECONNECT_CLIENT_ID,
        "secret": OIDC_FRANCECONNECT_SECRET,
        "settings": {
            "server_url": OIDC_FRANCECONNECT_URL,
            "token_auth_method": "client_secret_post",
            "scope": OIDC_SCOPE,
            "acr_values": "eidas1",
        },
    },
]
if OIDC_FRANCEIDENTITE_URL:
    OIDC_APPS.append(
        {
            "provider_id": "franceidentite",
            "name": "France Identité",
            "client_id": OIDC_FRANCEIDENTITE_CLIENT_ID,
            "secret": OIDC_FRANCEIDENTITE_SECRET,
            "settings": {
                "server_url": OIDC_FRANCEIDENTITE_URL,
                "token_auth_method": "client_secret_post",
                "scope": OIDC_SCOPE,
                "acr_values": "eidas2",
            },
        }
    )
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        # Adds FranceConnect's nonce and checks it on the callback (see procuration/oidc.py).
        "provider_class": "procuration.oidc.FranceConnectProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": OIDC_APPS,
    }
}

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # silences WhiteNoise; files come from the finders
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- E-mail -------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Démarches électorales <ne-pas-repondre@demarches-electorales.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
DEV_MAILBOX = env_bool("DEV_MAILBOX", DEBUG and EMAIL_BACKEND.endswith("filebased.EmailBackend"))

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# visibility_timeout: a task taken by a worker that dies before acking it (acks_late) is handed
# to another worker after this many seconds. It must stay above the longest task and the longest
# retry countdown (600 s, procuration/tasks.py), or a task still running would be re-delivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the worker's database connection around every task unless this is
# set; with it, only every CELERY_DB_REUSE_MAX tasks. Between those, procuration/celery.py closes it
# as Django does between requests (DB_CONN_MAX_AGE, health checks): one PostgreSQL backend per worker
# process instead of one per task.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-emails": {"task": "procuration.tasks.requeue_stuck_emails", "schedule": 60.0},
    "expire-and-purge": {"task": "procuration.tasks.expire_and_purge", "schedule": 3600.0},
    "mairie-alerts": {"task": "mairie.tasks.send_mairie_alerts", "schedule": 300.0},
    "audit-digest": {"task": "procuration.tasks.record_audit_digest", "schedule": crontab(hour=23, minute=55)},
    # The dashboard's figures: their change rows folded into one per key (procuration.counts).
    "compact-procuration-counts": {"task": "procuration.tasks.compact_procuration_counts", "schedule": 300.0},
    # The listes portal's retention periods (listes.retention): once a night, off peak.
    "purge-listes": {"task": "listes.tasks.purge_listes", "schedule": crontab(hour=3, minute=30)},
}

# --- Cache (sessions, rate limits) --------------------------------------------------------
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "procuration.cache.FailoverRedisCache", "LOCATION": REDIS_CACHE_URL}
    if REDIS_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions are kept in the database and read from the cache: one Redis GET instead of a query on
# every request (bench/run_load.sh); a stale copy left by a Redis outage is dropped (procuration/cache.py).
# Django's cached_db, an existing session saved by one UPDATE (procuration/sessions.py).
SESSION_ENGINE = "procuration.sessions"

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 4 * 3600)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
# Proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated): the client's address
# is then the right-most one not in this set (procuration/network.py client_ip). Empty: REMOTE_ADDR.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": ["'none'"],
        "form-action": [SELF, OIDC_FRANCECONNECT_URL, *([OIDC_FRANCEIDENTITE_URL] if OIDC_FRANCEIDENTITE_URL else [])],
        "base-uri": [SELF],
        "object-src": ["'none'"],
    }
}

# --- Domain settings ----------------------------------------------------------------------
PROCURATION_RETENTION_DAYS = env_int("PROCURATION_RETENTION_DAYS", 365)  # 1 year after end of validity
# Demandes refused at the counter (the name is historical: expired ones are destroyed at expiry, tasks.py).
PROCURATION_PURGE_EXPIRED_AFTER_DAYS = env_int("PROCURATION_PURGE_EXPIRED_AFTER_DAYS", 7)
OUTBOX_STUCK_AFTER_SECONDS = env_int("OUTBOX_STUCK_AFTER_SECONDS", 60)
# Outbox batches (procuration/tasks.py): rows one task claims at once, and the lease on the row being
# sent. The lease must outlast one message's SMTP exchange (EMAIL_TIMEOUT per socket operation);
# rows of a killed worker are taken again once it has run out.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 30)
# A worker keeps its SMTP connection between batches for this many idle seconds (0: one connection per
# batch), checked by a NOOP before it is used again: e-mails trickling in one by one no longer open,
# greet and quit a connection each (TLS included, with a relay). Keep it under the server's idle timeout.
OUTBOX_SMTP_KEEP_SECONDS = env_int("OUTBOX_SMTP_KEEP_SECONDS", 10)
# The drain a commit asks for starts this many milliseconds later (0: at once): the e-mails committed
# meanwhile share its batch instead of a task, a claim and a send each (procuration/outbox.py).
OUTBOX_DRAIN_DELAY_MS = env_int("OUTBOX_DRAIN_DELAY_MS", 200)
# Contact form (procuration/pages.py): the national support's address (a commune's goes to its email_service)
# and how many messages one IP address may send per window.
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@demarches-electorales.example")
CONTACT_LIMIT = env_int("CONTACT_LIMIT", 5)
CONTACT_WINDOW_SECONDS = env_int("CONTACT_WINDOW_SECONDS", 3600)
# Police counter: reference lookups allowed per officer, and per client address (a commissariat behind one
# NAT: 100 officers x 30), per window (opened by the first lookup).
POLICE_LOOKUP_LIMIT = env_int("POLICE_LOOKUP_LIMIT", 30)
POLICE_LOOKUP_IP_LIMIT = env_int("POLICE_LOOKUP_IP_LIMIT", 3000)
POLICE_LOOKUP_WINDOW_SECONDS = env_int("POLICE_LOOKUP_WINDOW_SECONDS", 600)
# How long the link given by a lookup opens the procuration's page for the officer (police/services.py).
POLICE_FICHE_MAX_AGE_SECONDS = env_int("POLICE_FICHE_MAX_AGE_SECONDS", 4 * 3600)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
# Listes électorales et recensement citoyen (docs/listes.md).
LISTES_PRIVATE_ROOT = Path(env_str("LISTES_PRIVATE_ROOT", str(VAR_DIR / "private")))  # never served as media
LISTES_PIECE_MAX_BYTES = env_int("LISTES_PIECE_MAX_BYTES", 5 * 1024 * 1024)  # pièces justificatives, 5 Mo
LISTES_DOCUMENT_MAX_BYTES = env_int("LISTES_DOCUMENT_MAX_BYTES", 1024 * 1024)  # documents de la mairie, 1024 Ko
LISTES_IMAGE_MAX_BYTES = env_int("LISTES_IMAGE_MAX_BYTES", 1024 * 1024)  # tampon et signature
LISTES_TELEDOSSIERS_PER_DAY = env_int("LISTES_TELEDOSSIERS_PER_DAY", 5)  # per usager, Paris day
LISTES_RCO_AGE_MIN = env_int("LISTES_RCO_AGE_MIN", 16)
LISTES_RCO_AGE_MAX = env_int("LISTES_RCO_AGE_MAX", 25)  # régularisation jusqu'à 25 ans
LISTES_ILE_DEADLINE_WEEKS = env_int("LISTES_ILE_DEADLINE_WEEKS", 6)  # 6e mercredi avant le 1er tour
# Retention (listes.retention, docs/listes.md « Conservation des données »); the product's choice, to be
# confirmed by the DPO. Pièces: after the closing of the last télédossier using them (recours on a refusal).
LISTES_PIECES_RETENTION_DAYS = env_int("LISTES_PIECES_RETENTION_DAYS", 180)
# Closed télédossiers, with the mairie's documents and their history: after their closing.
LISTES_TELEDOSSIERS_RETENTION_DAYS = env_int("LISTES_TELEDOSSIERS_RETENTION_DAYS", 5 * 365)

# --- Operations (docs/ops/operations.md) ---------------------------------------------------
# Probes answer over plain HTTP on the node's own port: no redirect to HTTPS for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics answers these addresses or networks only (others 404), and never through a proxy.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_CELERY_QUEUES = env_list("METRICS_CELERY_QUEUES", ["celery"])
METRICS_STATUS_CACHE_SECONDS = env_int("METRICS_STATUS_CACHE_SECONDS", 30)
# Logs: one JSON line per record (LOG_FORMAT=text for a human-readable console in development).
LOG_FORMAT = env_str("LOG_FORMAT", "json")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING below, as JSON
# Only one beat sends the periodic tasks: a lock in Redis renewed at every tick (procuration/beat.py).
CELERY_BEAT_SCHEDULER = "procuration.beat:SingleBeatScheduler"
BEAT_LOCK_URL = env_str("BEAT_LOCK_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
BEAT_LOCK_TTL_SECONDS = env_int("BEAT_LOCK_TTL_SECONDS", 60)
# A tick at least this often: the holder renews the lock three times within its time to live.
CELERY_BEAT_MAX_LOOP_INTERVAL = max(1, min(10, BEAT_LOCK_TTL_SECONDS // 3))
BEAT_LOCK_RETRY_SECONDS = env_int("BEAT_LOCK_RETRY_SECONDS", 5)

# --- API v1 for the communes' software (docs/api.md) -----------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API des démarches électorales pour les communes",
    "DESCRIPTION": "Procurations et télédossiers de la commune, fil des changements, webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600)  # calls per key and window
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 60)
API_FILE_URL_MAX_AGE_SECONDS = env_int("API_FILE_URL_MAX_AGE_SECONDS", 300)  # signed download links
# Webhooks: http:// and private/loopback addresses only when allowed (tests, development: never in production).
API_WEBHOOK_ALLOW_PRIVATE = env_bool("API_WEBHOOK_ALLOW_PRIVATE", DEBUG)
API_WEBHOOK_RETRY_SECONDS = env_int("API_WEBHOOK_RETRY_SECONDS", 24 * 3600)  # then the endpoint is disabled
API_WEBHOOK_BACKOFF_BASE_SECONDS = env_int("API_WEBHOOK_BACKOFF_BASE_SECONDS", 30)  # 30 s, 1 min, 2 min… (≤ 3 h)
API_WEBHOOK_ROTATION_SECONDS = env_int("API_WEBHOOK_ROTATION_SECONDS", 24 * 3600)  # both secrets sign meanwhile
CELERY_BEAT_SCHEDULE["api-webhooks-due"] = {"task": "api.tasks.requeue_due_webhooks", "schedule": 60.0}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "procuration.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "procuration.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

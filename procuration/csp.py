"""django-csp's middleware, with the policy strings built once per process (issue 16).

csp.middleware.CSPMiddleware builds the Content-Security-Policy header from the settings on every
response, twice (the policy and the report-only one), although only the nonce changes from one
response to the next. This subclass builds each string once for the settings in force, with a
placeholder where the nonce goes, and puts the request's nonce in: the same header, byte for byte
(tests/security/test_headers.py). A response that carries its own policy (django-csp's decorators:
csp_update, csp_replace, csp_override and their report-only forms) goes to django-csp as before.
"""


from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings

# What django-csp reads on a response to change its policy: any of them, and the policy is its own.
OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
# Stands for the nonce in the cached strings: base64 never contains "!".
NONCE_MARK = "!csp-nonce!"


class CSPMiddleware(csp_middleware.CSPMiddleware):
    _cache: dict = {}

    @classmethod
    def policies(cls, report_only: bool) -> tuple[str, str]:
        """(policy without nonce, policy with NONCE_MARK) for the settings in force; rebuilt when the
        settings object changes (override_settings in the tests)."""
        name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        config = getattr(settings, name, None)
        key = (report_only, id(config))
        cached = cls._cache.get(key)
        if cached is None or cached[0] is not config:
            strings = (build_policy(report_only=report_only), build_policy(nonce=NONCE_MARK, report_only=report_only))
            cached = cls._cache[key] = (config, strings)
        return cached[1]

    def policy(self, request, report_only: bool) -> str:
        without, with_mark = self.policies(report_only)
        nonce = getattr(request, "_csp_nonce", None)
        return with_mark.replace(NONCE_MARK, nonce) if nonce else without

    def process_response(self, request, response):
        if any(getattr(response, name, None) is not None for name in OVERRIDES):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:  # django-csp leaves the debug pages alone
            return response
        for report_only, header, exempt in ((False, HEADER, "_csp_exempt"), (True, HEADER_REPORT_ONLY, "_csp_exempt_ro")):
            policy = self.policy(request, report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            config = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY",
                             None) or {}
            if not request.path_info.startswith(tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())):
                response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:  # as django-csp: no nonce once the header is written
            request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response




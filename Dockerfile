# Production-like image: gunicorn serving Django, the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime lock only: no test, browser or benchmark packages in the production image.
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --system --no-cache --require-hashes -r requirements/runtime.lock
COPY . .
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=localhost STATIC_MANIFEST=true \
    python manage.py collectstatic --noinput -v0
RUN useradd --create-home app && mkdir -p /app/var && chown app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "procuration.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]

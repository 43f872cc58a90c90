# The LTC CRM application image: web (gunicorn), Celery worker and Celery beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LTC_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 10001 ltc

# Dependencies first (their own layer), read from pyproject.toml so there is one list to maintain.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Static files are collected at build time (hashed names, compressed; served by WhiteNoise).
# The key below only exists for this build step; the running containers get DJANGO_SECRET_KEY.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only-build-step-key-not-used-at-runtime-0123456789 \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var \
    && chown -R ltc:ltc /app/var

USER ltc
EXPOSE 8000
CMD ["gunicorn", "ltc.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

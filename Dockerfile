# SKAM's production image: gunicorn serving skam.wsgi on port 8000, static files through
# whitenoise. The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# WeasyPrint draws the board packs with pango and harfbuzz, in Debian's fonts (DejaVu, Liberation:
# Latin and Cyrillic); nothing is fetched when a pack is drawn up.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
        fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

# The pinned dependencies from pyproject.toml, in their own layer: a code change does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself. Editable, so that BASE_DIR stays /app, where templates, static and
# locale live.
COPY . .
RUN pip install --no-deps -e .

# Static files are collected at build time; these values exist only to let the settings load.
RUN SECRET_KEY=collectstatic-only-this-is-not-a-real-secret-key-of-any-kind \
    DEBUG=0 \
    ALLOWED_HOSTS=localhost \
    SKAM_VAR_DIR=/tmp/skam-build \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/skam-build

# The code stays owned by root and read-only to the process; only var/ is writable.
RUN groupadd --system skam \
    && useradd --system --gid skam --home-dir /app --no-create-home skam \
    && mkdir -p /app/var/media \
    && chown -R skam:skam /app/var
USER skam

EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY from the environment.
CMD ["gunicorn", "skam.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

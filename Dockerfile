# Frontdesk: a slim, non-root image. SQLite on the /data volume by default; set DATABASE_URL for
# PostgreSQL (see docker-compose.yml). Put the desk's policy in /data/frontdesk.toml.
#
#   docker build -t frontdesk .
#   docker run --rm -v frontdesk-data:/data frontdesk db upgrade   # any `frontdesk` command
#   docker run -d -e BOT_TOKEN=... -e STAFF_CHAT_ID=... -v frontdesk-data:/data frontdesk
#
# Build arguments: EXTRAS, optional dependencies to install (default none).
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: compile the translations, build the wheel, install it into a virtualenv ----------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN pip install "babel>=2.14"

WORKDIR /src
COPY . .

# The .mo files are not in git: compile every catalogue that exists, before the wheel is built,
# so that the package data picks them up.
RUN set -eu; \
    for po in locales/*/LC_MESSAGES/*.po; do \
        [ -e "$po" ] || continue; \
        pybabel compile --use-fuzzy -i "$po" -o "${po%.po}.mo"; \
    done; \
    pip wheel --no-deps --wheel-dir /wheels .

ARG EXTRAS=
# Installed from the wheel's path, never by name: PyPI must not supply a "frontdesk" of its own.
RUN set -eu; \
    python -m venv /opt/venv; \
    wheel=$(ls /wheels/frontdesk-*.whl); \
    /opt/venv/bin/pip install "${wheel}${EXTRAS:+[$EXTRAS]}"; \
    cd /; \
    /opt/venv/bin/frontdesk --help >/dev/null

# --- final image --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="frontdesk" \
      org.opencontainers.image.description="Telegram front door of a technical-support desk" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_URL=sqlite+aiosqlite:////data/frontdesk.sqlite3
# The policy file is /data/frontdesk.toml: the default `frontdesk.toml`, read from the working
# directory. FRONTDESK_CONFIG is deliberately not set here: when it is set, a missing file is an
# error, whereas a missing default file means the default policy, so a bare `docker run` works.

RUN groupadd --system --gid 10001 frontdesk \
 && useradd --system --uid 10001 --gid frontdesk --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin frontdesk \
 && mkdir /data \
 && chown frontdesk:frontdesk /data

COPY --from=builder /opt/venv /opt/venv

USER frontdesk
WORKDIR /data
# Declared after the chown, so that a new named volume starts owned by frontdesk.
VOLUME /data
# The webhook server (WEBHOOK_PORT, default 8080) when WEBHOOK_URL is set; polling needs none.
EXPOSE 8080

ENTRYPOINT ["frontdesk"]
CMD ["run"]

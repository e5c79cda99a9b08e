# One image, one program per container (the command picks it); EXTRAS picks what is installed:
# `hub` (default) for the hub and the broker's accounts service in docker-compose.yml, `edge` for
# an edge box (`docker build --build-arg EXTRAS=edge .`), `sim` for the simulators. The demo/
# folder is left out of the context's copy: nothing in the image may import it.
FROM python:3.11-slim
ARG EXTRAS=hub
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mqtt_contract ./mqtt_contract
COPY edge ./edge
COPY hub ./hub
COPY community ./community
COPY firmware-sim ./firmware-sim
COPY dashboards/web ./dashboards/web
# The hub's image carries pg_dump/pg_restore/psql for `community backup` and `restore`: Debian
# bookworm's client is PostgreSQL 15, the compose file's server.
RUN if [ "${EXTRAS}" = hub ]; then \
        apt-get update && apt-get install -y --no-install-recommends postgresql-client \
        && rm -rf /var/lib/apt/lists/*; \
    fi
RUN pip install --no-cache-dir ".[${EXTRAS}]" && useradd --system --uid 10001 community \
    && install -d -o community -m 0700 /backups
USER community
EXPOSE 8000
CMD ["community", "hub"]

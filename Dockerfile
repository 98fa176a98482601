# syntax=docker/dockerfile:1
# notifier: build a wheel in one stage, run it as a non-root user in a slim one.
#   docker build -t notifier .
#   docker run -d -v "$PWD/config:/config:ro" -v notifier-data:/data notifier
#   several workers on PostgreSQL: docker-compose.scale.yml
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY notifier ./notifier
# The [postgres] extra (psycopg, Procrastinate) is in the image: `notifier worker`.
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin notifier \
    && mkdir -p /data /config && chown notifier /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'notifier[postgres]' \
    && rm -rf /wheels
COPY config/watch.yaml config/watch.schema.json /config/
ENV NOTIFIER_CONFIG=/config/watch.yaml \
    NOTIFIER_STATE_DIR=/data \
    NOTIFIER_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER notifier
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["notifier", "healthcheck"]
ENTRYPOINT ["notifier"]
CMD ["run"]

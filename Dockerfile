# mock-puresms: an offline mock of the PureSMS v1 SMS API.
#
#   docker build -t mock-puresms .
#   docker run --rm -p 8080:8080 mock-puresms --scenario realistic
#   docker run --rm -v "$PWD:/s:ro" mock-puresms scenarios validate /s/checkout.yaml
#
# Arguments after the image name are flags of `mock-puresms serve`, unless the first one
# is a subcommand (docker-entrypoint.sh routes them). Every flag also reads
# MOCK_PURESMS_<FLAG>. Change the port with MOCK_PURESMS_PORT (not --port), so the
# health check, which reads the same variables, follows it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# The dependencies in a layer of their own, read from pyproject.toml alone: a change to
# the code then rebuilds only the small layer below.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-cache-dir -r requirements.txt
COPY README.md ./
COPY mock_puresms ./mock_puresms
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf /src
COPY docker-entrypoint.sh /usr/local/bin/

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin mock \
    && mkdir -p /data \
    && chown mock:mock /data
USER mock
WORKDIR /data
# Where --db keeps its SQLite file: docker run -v puresms-data:/data IMAGE --db /data/mock.db
VOLUME /data

ENV MOCK_PURESMS_HOST=0.0.0.0 \
    MOCK_PURESMS_PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["mock-puresms", "health"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["serve"]

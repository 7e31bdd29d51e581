FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
WORKDIR /app
# PyTorch first, from the index that matches the machine: the CPU build by default (small);
# the GPU worker builds with TORCH_INDEX=https://download.pytorch.org/whl/cu128.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX}
COPY . .
RUN pip install --no-cache-dir .
EXPOSE 8000
# gunicorn.conf.py (read from /app) is the shipped, benchmarked server configuration.
CMD ["gunicorn", "studio.wsgi:application"]

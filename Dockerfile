FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 LITELLM_LOCAL_MODEL_COST_MAP=True LANGGRAPH_STRICT_MSGPACK=true DATA_DIR=/data
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e .
VOLUME /data
EXPOSE 8000
CMD ["atiende", "serve", "--host", "0.0.0.0", "--port", "8000"]

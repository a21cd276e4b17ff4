#!/bin/bash
# tensorflow/serving's entrypoint (tools/docker/Dockerfile), unchanged: the flags compose, k8s/ and Helm pass are
# appended to these. Like the real one, it does not exec: bash stays PID 1 and TF Serving is stopped by the engine's
# SIGKILL after the stop grace period.
tensorflow_model_server --port=8500 --rest_api_port=8501 \
  --model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME} \
  "$@"

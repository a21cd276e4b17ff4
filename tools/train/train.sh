#!/usr/bin/env bash
# Reproduce the default model, models/sentiment_analysis/<version>, from ../shared/datasets (about 15 minutes on
# 2 cores). Data scientist's side: needs Node (this repo's npm install) and Debian's PyTorch:
#   apt-get install -y python3-torch python3-onnx libopenblas0-pthread
# Usage: tools/train/train.sh [version]
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=${1:-1}
PY=/usr/bin/python3
MAX_LEN=128
WORK=.cache/train
OUT=models/sentiment_analysis/$VERSION
GOLDEN=test/fixtures/golden/sentiment_analysis.torch-logits.json
TSX="node_modules/.bin/tsx"

[ -f ../shared/datasets/sst2/train.tsv ] || [ -n "${SST2_DIR:-}" ] || {
  echo "SST-2 not found at ../shared/datasets/sst2 (set SST2_DIR)" >&2
  exit 2
}
"$PY" -c 'import torch, onnx' || {
  echo "needs Debian's python3-torch and python3-onnx (see the header of $0)" >&2
  exit 2
}
rm -rf "$WORK" && mkdir -p "$WORK/model"
start=$(date +%s)

echo "# 1. tokenizer: bert-base-uncased WordPiece, reduced to the pieces SST-2 train uses"
"$TSX" tools/train/build-tokenizer.ts "$WORK/model" "$MAX_LEN"
echo "# 2. token ids of train and dev, by the service's tokenizer class"
"$TSX" tools/train/pretokenize.ts "$WORK/model/tokenizer.json" "$MAX_LEN" "$WORK/ids.json"

echo "# 3. teachers, two at a time (one thread each)"
teacher() { "$PY" tools/train/train.py teacher --ids "$WORK/ids.json" --out "$WORK/teachers/$1" --arch "$2" --seed "$3" --epochs "$4" --max-position-embeddings "$MAX_LEN" > "$WORK/teacher-$1.log"; }
(teacher bert-1 bert 1 2 && teacher cnn-2 cnn 2 3) & lane1=$!
(teacher bert-3 bert 3 2 && teacher cnn-4 cnn 4 3) & lane2=$!
wait "$lane1" && wait "$lane2"

echo "# 4. the student: the shipped BERT, distilled from the teachers' mean probabilities"
"$PY" tools/train/train.py student --ids "$WORK/ids.json" --out "$WORK/model" --threads 2 --seed 5 --epochs 3 \
  --max-position-embeddings "$MAX_LEN" \
  --teachers "$WORK/teachers/bert-1,$WORK/teachers/cnn-2,$WORK/teachers/bert-3,$WORK/teachers/cnn-4"

echo "# 5. ONNX export from model.safetensors, and golden logits"
"$TSX" tools/train/golden-inputs.ts "$WORK/model/tokenizer.json" "$MAX_LEN" "$WORK/golden-inputs.json"
mkdir -p "$(dirname "$GOLDEN")"
"$PY" tools/train/export.py --model-dir "$WORK/model" --golden-in "$WORK/golden-inputs.json" --golden-out "$GOLDEN"

echo "# 6. install into $OUT"
rm -rf "$OUT" && mkdir -p "$OUT"
cp "$WORK"/model/{config.json,tokenizer.json,tokenizer_config.json,special_tokens_map.json,vocab.txt,model.safetensors,model.onnx} "$OUT/"
cp "$WORK/model/report.json" "$OUT/training-report.json"
echo "done in $(( $(date +%s) - start )) s"

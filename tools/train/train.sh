#!/usr/bin/env bash
# Reproduce the default model, models/sentiment_analysis/<version>, from ../shared/datasets (about 25 minutes on
# 2 cores). Data scientist's side: needs Node (this repo's npm install) and Debian's PyTorch:
#   apt-get install -y python3-torch libopenblas0-pthread
# Usage: tools/train/train.sh [version] [output folder]
#   The output folder defaults to models/sentiment_analysis/<version>; the golden logits go to
#   test/fixtures/golden/ only then (give another folder to check reproducibility without touching the repo).
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=${1:-1}
OUT=${2:-models/sentiment_analysis/$VERSION}
PY=/usr/bin/python3
MAX_LEN=128
WORK=.cache/train-$VERSION
GOLDEN=test/fixtures/golden/sentiment_analysis.torch-logits.json
[ "$OUT" = "models/sentiment_analysis/$VERSION" ] || GOLDEN=$OUT.golden.json
TSX="node_modules/.bin/tsx"

[ -f ../shared/datasets/sst2/train.tsv ] || [ -n "${SST2_DIR:-}" ] || {
  echo "SST-2 not found at ../shared/datasets/sst2 (set SST2_DIR)" >&2
  exit 2
}
"$PY" -c 'import torch' || {
  echo "needs Debian's python3-torch (see the header of $0)" >&2
  exit 2
}
rm -rf "$WORK" && mkdir -p "$WORK/model"
start=$(date +%s)

echo "# 1. tokenizer: bert-base-uncased WordPiece, reduced to the pieces SST-2 train uses"
"$TSX" tools/train/build-tokenizer.ts "$WORK/model" "$MAX_LEN"
echo "# 2. token ids of train and dev, by the service's tokenizer class"
"$TSX" tools/train/pretokenize.ts "$WORK/model/tokenizer.json" "$MAX_LEN" "$WORK/ids.json"

echo "# 3. teachers of three architectures, two at a time (one thread each): name arch seed epochs lr"
teacher() {
  "$PY" tools/train/train.py teacher --ids "$WORK/ids.json" --out "$WORK/teachers/$1" --arch "$2" --seed "$3" \
    --epochs "$4" --lr "$5" --max-position-embeddings "$MAX_LEN" > "$WORK/teacher-$1.log"
}
(teacher bert-1 bert 1 2 5e-4 && teacher lstm-21 lstm 21 3 1e-3) & lane1=$!
(teacher bert-3 bert 3 2 5e-4 && teacher cnn-22 cnn 22 3 1e-3 && teacher cnn-2 cnn 2 3 1e-3) & lane2=$!
wait "$lane1" && wait "$lane2"
TEACHERS=$(ls -d "$WORK"/teachers/* | paste -sd, -)

echo "# 4. the student: the shipped BERT, regressing the teachers' mean logit margin (Tang et al. 2019)"
"$PY" tools/train/train.py student --ids "$WORK/ids.json" --out "$WORK/model" --threads 1 --seed 5 --epochs 3 \
  --lr 5e-4 --loss margin_mse --gold-weight 0.2 --max-position-embeddings "$MAX_LEN" --teachers "$TEACHERS"

echo "# 5. golden logits of the trained network in PyTorch (the ONNX file is generated in step 7)"
"$TSX" tools/train/golden-inputs.ts "$WORK/model/tokenizer.json" "$MAX_LEN" "$WORK/golden-inputs.json"
mkdir -p "$(dirname "$GOLDEN")"
"$PY" tools/train/golden.py --model-dir "$WORK/model" --golden-in "$WORK/golden-inputs.json" --golden-out "$GOLDEN"

echo "# 6. install into $OUT (a numeric version folder), with the run's duration"
"$PY" -c 'import json,sys; p=sys.argv[1]; r=json.load(open(p)); r["pipeline_seconds"]=int(sys.argv[2]); json.dump(r,open(p,"w"),indent=2)' \
  "$WORK/model/report.json" "$(( $(date +%s) - start ))"
rm -rf "$OUT" && mkdir -p "$OUT"
cp "$WORK"/model/{config.json,tokenizer.json,tokenizer_config.json,special_tokens_map.json,vocab.txt,model.safetensors} "$OUT/"
cp "$WORK/model/report.json" "$OUT/training-report.json"

echo "# 7. model.onnx, model.int8.onnx and the TensorFlow Serving SavedModel, all from model.safetensors (the same"
echo "#    TypeScript exporter as npm run model:import)"
for tool in export-onnx quantize-onnx export-saved-model; do
  "$TSX" "tools/export/$tool.ts" --model-dir "$(dirname "$OUT")" --version "$(basename "$OUT")"
done

echo "# 8. the model card, with a fresh evaluation of model.onnx"
"$TSX" tools/train/model-card.ts "$OUT"
echo "done in $(( $(date +%s) - start )) s"

"""Golden logits of the trained network, from model.safetensors + config.json, in PyTorch.

model.safetensors is the single source of truth: this script rebuilds the PyTorch module from it and writes its
logits for the golden sentences. model.onnx is not written here: `npm run model:export-onnx` generates it from the
same model.safetensors (the one ONNX producer, shared with `npm run model:import`), and
test/onnx-export-parity.e2e-spec.ts holds it to these logits.

Usage: python3 golden.py --model-dir <dir> --golden-in <ids.json> --golden-out <golden.json>
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

import numpy as np
import torch

from bert import BertConfig, BertForSequenceClassification


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__" or name.endswith(".position_ids"):
            # position_ids: a buffer transformers < 4.31 saved beside the weights (arange), not a parameter.
            continue
        if spec["dtype"] != "F32":
            raise ValueError(f"{path}: {name} has dtype {spec['dtype']}, expected F32")
        begin, end = spec["data_offsets"]
        arr = np.frombuffer(raw[base + begin : base + end], dtype="<f4").reshape(spec["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def load_model(model_dir: Path) -> BertForSequenceClassification:
    cfg = json.loads((model_dir / "config.json").read_text())
    c = BertConfig(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        intermediate_size=cfg["intermediate_size"],
        hidden_act=cfg["hidden_act"],
        max_position_embeddings=cfg["max_position_embeddings"],
        type_vocab_size=cfg["type_vocab_size"],
        layer_norm_eps=cfg["layer_norm_eps"],
        pad_token_id=cfg["pad_token_id"],
        num_labels=len(cfg["id2label"]),
    )
    model = BertForSequenceClassification(c)
    model.load_state_dict(read_safetensors(model_dir / "model.safetensors"), strict=True)
    return model.eval()


def golden(model: BertForSequenceClassification, ids_path: Path, out_path: Path) -> None:
    """Logits of the training framework for sentences tokenized by the service's tokenizer, one at a time and as
    one padded batch (the padded batch must give the same logits: padding is masked)."""
    cases = json.loads(ids_path.read_text())
    rows = []
    with torch.no_grad():
        for case in cases:
            ids = torch.tensor([case["input_ids"]], dtype=torch.long)
            logits = model(ids, torch.ones_like(ids), torch.zeros_like(ids))[0]
            rows.append({**case, "logits": [float(x) for x in logits]})
    out_path.write_text(json.dumps({"framework": f"torch {torch.__version__}", "cases": rows}, indent=1) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--golden-in", required=True)
    p.add_argument("--golden-out", required=True)
    a = p.parse_args()
    torch.set_num_threads(2)
    model_dir = Path(a.model_dir)
    model = load_model(model_dir)
    golden(model, Path(a.golden_in), Path(a.golden_out))


if __name__ == "__main__":
    main()

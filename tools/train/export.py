"""Export the trained network to ONNX and write golden logits, from model.safetensors + config.json.

model.safetensors is the single source of truth: this script rebuilds the PyTorch module from it (so the ONNX file
can always be regenerated from the shipped weights) and exports with the interface of a Hugging Face ONNX export:
inputs input_ids, attention_mask, token_type_ids (int64 [batch, sequence], both axes dynamic), output logits
[batch, num_labels].

Usage: python3 export.py --model-dir <dir> --golden-in <ids.json> --golden-out <golden.json>
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

import numpy as np
import onnx
import torch

from bert import BertConfig, BertForSequenceClassification


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
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


def export_onnx(model: BertForSequenceClassification, path: Path) -> None:
    dummy = torch.tensor([[2, 7, 8, 3], [2, 9, 3, 0]], dtype=torch.long)
    mask = (dummy != 0).long()
    torch.onnx.export(
        model,
        (dummy, mask, torch.zeros_like(dummy)),
        str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "sequence_length"},
            "token_type_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size"},
        },
        opset_version=14,
        do_constant_folding=True,
    )
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    # Drop the exporter's producer version so the file depends only on the weights and the graph.
    m.producer_version = ""
    onnx.save(m, str(path))


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
    export_onnx(model, model_dir / "model.onnx")
    golden(model, Path(a.golden_in), Path(a.golden_out))


if __name__ == "__main__":
    main()

#!/bin/bash
# Runs the whole bad-candidate corpus (tests/corpus) on the GPU and prints file | expected | got.
# Usage: bash tools/device/corpus.sh [BINARY] (default .devbin/tritonize-sec)
set -u
cd "$(dirname "$0")/../.."
binary="${1:-.devbin/tritonize-sec}"
python3 -c "import safetensors" 2>/dev/null && echo "safetensors: yes" || echo "safetensors: no (torch.save + torch.load(weights_only=True) fallback)"
python3 tests/e2e/corpus.py --binary "$binary" --python python3 --jobs "${CORPUS_JOBS:-4}"

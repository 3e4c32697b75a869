"""PyTorch-side helpers of attnc: safetensors files without the safetensors
package, and nn.Transformer models laid out as attnc's .attn models are.
Used by the golden-data script, the benchmarks and the examples' training
scripts; runs on Debian's python3-torch (PyTorch 1.13)."""

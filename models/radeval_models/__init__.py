"""Report generators (RAD3D-Prefix, R2GenGPT, clip-text-decoder baseline), the CT-CLIP encoder, LLM loading and training."""

"""The model card of ``ker-vljepa`` (printed by ``radeval models show ker-vljepa``)."""

CARD = """\
# ker-vljepa — a Ker-VLJEPA-style 3D CT report generator over CT-CLIP slab tokens

A reconstruction of Ker-VLJEPA-3B (arXiv 2603.23308; no public code). The paper's abstract is the only first-hand
source; details marked "review" come from a third-party review of the paper and are leads, not facts.

**Deviation from the premise.** The paper's visual backbone is a frozen, *language-free* self-supervised encoder
(LeJEPA ViT-L, per-slice 1,024-d embeddings, up to 600 slices). Here the input is CT-CLIP's slab tokens (24 x 512
per volume, `radeval embed --slab-tokens`), and CT-CLIP is language-supervised (contrastive with reports). So this
entry is Ker-VLJEPA-*style*: the curriculum and the grafting are reconstructed, the "modality-pure" encoder is not.

Reported result (for the literature table): CT-RATE, 2,984 validation volumes, 18 classes, macro-F1 **0.429**;
0.448 with per-label thresholds tuned on the evaluation set, which the authors flag as leakage. radeval's
`label_f1_macro_tuned` takes thresholds fitted on a validation split (`radeval label --fit-thresholds`) and refuses
to score the reports they were fitted on.

## Components

| component | status | value | source / reason |
|---|---|---|---|
| visual input | **reconstructed** | CT-CLIP slab tokens, n_slabs 24 x slab_dim 512 (the 512-d latent is not used) | the toolkit runs every generator over CT-CLIP features; replaces LeJEPA ViT-L slice embeddings |
| zone-constrained cross-attention | as published (mechanism) | one learnable query per contiguous zone attending only to its zone's slabs, plus a zone positional encoding and one global pre-norm encoder layer | abstract (mechanism); zone PE and global layer: review |
| number of visual tokens K | **reconstructed** | n_zones 8 (3 slabs per zone), K <= n_slabs enforced | abstract: 32 over up to 600 slices; CT-CLIP has only 24 slabs, and one slab per zone would make the zone attention a plain projection |
| zone attention heads | as in review | 16 | review |
| query initialisation | **reconstructed** | N(0, 1/slab_dim) | review: SVD-initialised (no data at construction time here) |
| bias-free attention | **reconstructed** | zone attention, zone mixer and cross-attention projections have no biases | a key bias receives no gradient; Adam turns its round-off into steps that differ between 1- and N-process runs |
| bridge (predictor) | as in review | Linear(slab_dim -> H), LayerNorm (no affine), x mean token-embedding norm / sqrt(H) | review: Linear -> LLM width, LayerNorm, rescaled to the mean text-embedding norm |
| PCA whitening | as published (mechanism) | fitted when training starts on the training split's positive-findings texts, kept with the model (`whitening.*`); C = 256 components; text representation = mean over tokens of the LLM's layer-`pca_layer` states, pca_layer 0 (input embeddings) | abstract ("PCA whitening of anisotropic LLM embeddings"); C = 256 and layer 14: review; layer 0 chosen because the abstract says embeddings and the warm bridge maps into the input space |
| JEPA latent objective | **reconstructed** | per case ||align_head(mean zone token) - whiten(r(y+))||^2 / C, the target fixed (no gradient) | review: phase 2 is contrastive InfoNCE (tau 0.1); a per-case regression is decomposable, so 1- and N-process runs take the same step |
| positive-findings-only targets | as published (idea) | sentences the project's rule labeler (negation/uncertainty-aware, CT-RATE 18 labels) marks positive for >= 1 label, each ending with a full stop; none -> "No acute abnormality." | abstract (idea); the selection rule and the normal text are ours |
| warm bridge initialisation | as published (idea) | at the first step of phase 3: bridge.weight = A W_align, bridge.bias = A b_align, A = U sqrt(lambda) (centred de-whitening) | abstract: "transferring projection weights"; the mean is left out because it dwarfs the case-specific part before the LayerNorm |
| grafting | as in review, simplified | K visual tokens at `<ImageHere>` in the plain prompt "Chest CT volume: <ImageHere>\\nFindings:"; gated cross-attention (tanh gate, 0 at start) after layers L/4, L/2, 3L/4 (7, 14, 21 of 28), heads = the LLM's | review (placeholder tokens, layers 7/14/21); the chat template is not used (reconstructed) |
| LoRA | **reconstructed** | rank 8, alpha 16, q_proj + v_proj, no dropout | sources silent |
| selective cross-attention freezing + EWC | as published (idea) | phase 4 freezes cross-attention, bridge and the visual side and trains LoRA only, with penalty lambda/2 sum F (theta - theta*)^2; theta* and a diagonal empirical Fisher (per-case squared gradients of the phase-3 LM loss, first 64 training cases) taken at phase 4's first step and kept with the model (`ewc.*`) | abstract (idea); lambda 100: review (100 and 500 both appear) |
| phase 1 warm-up | as in review, simplified | BCE of per-zone label logits max-pooled over zones (MIL) vs the rule labeler's labels of the report; trains compressor + label head | review: BCE + MIL + orthogonality + MMD, LLM frozen (orthogonality and MMD omitted) |
| phase 2 alignment | **reconstructed** | the JEPA latent objective; trains compressor + align head | review: InfoNCE on positive-findings text (see above) |
| phase 3 generation | as in review, simplified | LM loss on positive-findings text + per case (JEPA + mean BCE) x its report tokens; trains compressor, bridge, cross-attention, LoRA, heads | review: LM + focal + JEPA + classification; "predictor, LoRA, cross-attention and projectors"; focal loss omitted, LoRA not frozen after epoch 6 |
| phase 4 findings | as in review | full Findings_EN text, LoRA only, + EWC; lr x 0.005 (5e-7 at lr 1e-4), 8 epochs | review |
| phase lengths | **reconstructed** | 2 / 2 / 6 / 8 epochs; one `radeval train` runs all four (train epochs = their sum, checked) and resumes inside any phase | phase 4's 8 epochs: review; the others are not reported |
| decoder | as published | Llama-3.2-3B (`llm: meta-llama/Llama-3.2-3B-Instruct`); SmolLM2-135M-Instruct in the offline demo | abstract |
| decoding | **reconstructed** | greedy, max_new_tokens 512 | sources silent |
"""

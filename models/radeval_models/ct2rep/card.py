"""The model card of ``ct2rep`` (printed by ``radeval models show ct2rep``)."""

CARD = """\
# ct2rep — CT2Rep's report generator over CT-CLIP slab tokens

CT2Rep (Hamamci et al., MICCAI 2024; code ibrahimethemhamamci/CT2Rep @ 9e85082) is the reference 3D CT report
generator of RAD3D-Prefix's Table 3. This entry is its **report-generation half** (the R2Gen-lineage
encoder-decoder with relational memory and memory-conditioned LayerNorm), written from the published structure (no
upstream code copied). **CT2Rep's own visual encoder is replaced**: CT2Rep trains a CT-ViT end to end (8,000 x 512
tokens, a 20^3 grid); here the frozen CT-CLIP encoder's slab tokens (24 x 512 at the released size: the mean over
(h, w) of the quantised CT-ViT tokens, from `radeval embed --slab-tokens`) stand in for its `att_feats`. The pooled
latent is not used, as CT2Rep does not use its pooled `fc_feats`.

## Components

| component | status | value | source / reason |
|---|---|---|---|
| visual encoder | **reconstructed** | frozen CT-CLIP CT-ViT, slab tokens (n_slabs x slab_dim) | the task runs every generator over CT-CLIP features; upstream trains its own CT-ViT end to end (not trainable here) |
| slab-token normalisation | **reconstructed** | every slab token standardised over its channels (zero mean, unit variance; no parameters), `slab_norm: layer`; `none` reads the tokens as they are | upstream's CT-ViT is trained with the decoder, so its tokens take the scale the decoder needs; frozen CT-CLIP tokens keep their encoder's scale (std 0.016 per channel for the demo's small encoder), which `att_embed`'s biases drowned: unnormalised, the demo model wrote one report for every case (checkpoints saved before the setting existed load as `none`) |
| slab projection | **reconstructed** | Linear(slab_dim, d_vf) when slab_dim != d_vf, identity otherwise (no parameters at CT-CLIP's 512) | the "visual extractor -> d_vf 512" interface of upstream, for encoders of another width |
| `att_embed` | as published | Linear(d_vf 512 -> 512), ReLU, Dropout 0.5, no BatchNorm | code (`use_bn = 0`, `drop_prob_lm` 0.5) |
| encoder-decoder | as published | 3 encoder + 3 decoder layers, d_model 512, d_ff 512, 8 heads, dropout 0.1, pre-norm sublayers | code defaults / README |
| positions | as published | none on visual tokens; sinusoidal on target words (embeddings scaled by sqrt(d_model)) | code |
| relational memory | as published | 3 slots, 8 heads, width 512; identity start, zero-padded; attention over [memory; word] + MLP + input/forget gates | code |
| MCLN | as published | in all three sublayers of every decoder layer: gamma/beta vectors + MLP (1536 -> 512 -> 512) of the flattened memory of the step; the decoder's final norm is a plain LayerNorm | code (peers.md); the plain final norm is confirmed by the upstream parameter count, which only matches with it |
| LayerNorm form | as published (not re-checked) | gain * (x - mean) / (std + 1e-6) + bias, unbiased std | the R2Gen-lineage code as we know it; not re-checked against the CT2Rep commit (no effect on parameter counts) |
| initialisation | as published (not re-checked) | Xavier-uniform on every matrix of the encoder-decoder and memory; MCLN MLP biases 0.1; `att_embed`/output layer PyTorch defaults | the R2Gen-lineage code as we know it; not re-checked against the CT2Rep commit |
| vocabulary | as published | training `Findings_EN` words with count >= threshold, plus `<unk>`, sorted, ids from 1; **id 0 = bos = eos = pad**; sequence `[0] + ids + [0]` cut to max_seq_length | code |
| report cleaning | **reconstructed** | lower case; runs of spaces/dots/underscores collapsed; list markers ("2. ") dropped; sentences split at ". ", punctuation removed, joined by " . ", ended by " ." | described as R2Gen-style cleaning; rules rewritten from that description, not copied |
| threshold / max length | as published | threshold 10, max_seq_length 300 | README training command (code defaults are 3 and 200) |
| loss | as published | mean negative log-likelihood over the target ids after the start token, the final 0 included | code (masked LM criterion) |
| optimiser | as published | Adam (amsgrad), lr 1e-4, weight decay 5e-5 (train: `optimizer: adam, amsgrad: true, weight_decay: 5.0e-5`) | code; upstream's separate lr 5e-5 for the visual extractor has no counterpart (the encoder is frozen; a slab projection, when present, uses 1e-4) |
| schedule | as published | StepLR step 1 epoch, gamma 0.8 (train: `lr_schedule: step, lr_step_size: 1, lr_gamma: 0.8`) | README |
| gradient clipping | as published | by value, 0.1 (train: `grad_clip: 0.1, grad_clip_mode: value`) | code |
| epochs / batch | as published | 100 epochs, batch 1 | README |
| distributed training | as the shared loop | `accelerate launch --num_processes N` takes the same steps as one process with dropout 0 (`tests/models/test_ct2rep_distributed.py`); with dropout each process draws the masks of its share of the batch, so runs agree in distribution, not bit for bit | the shared loop's property; dropout masks are per process |
| model selection | **not implemented** | the final epoch's weights are kept | upstream keeps the best validation BLEU-4 and stops early after 50 epochs; the shared loop has no validation step |
| decoding | as published | beam search, 3 beams, temperature 1, no length penalty (`length_penalty` 0: a finished hypothesis scores its summed log-probabilities) | code; `block_trigrams` has no effect on upstream's beam path, so none here |
| beam bookkeeping | **reconstructed** | the project's shared beam search (`radeval_models.beam_search`, Hugging Face `generate` semantics: 2 x beams candidates per step, HF's stopping heuristic), at most max_seq_length - 1 new words | upstream uses the ImageCaptioning.pytorch beam search, whose handling of finished beams and ties may differ in rare cases |

## Parameters

`radeval models params ct2rep --vocab-size V --json` counts the trainable parameters (all of them; the CT-CLIP
encoder is outside the model). With the defaults above (d_vf = slab_dim = 512) the count is
**34,406,912 + 1,025 (V + 1)**, e.g. 36,457,937 at V = 2,000, the figure of CT2Rep's own `EncoderDecoder` with its
visual extractor excluded:

| part | parameters |
|---|---|
| `att_embed` Linear(512, 512) | 262,656 |
| 3 encoder layers x (attention 4 x 262,656 + feed-forward 2 x 262,656 + 2 LayerNorms 2 x 1,024) + final LayerNorm 1,024 | 4,734,976 |
| 3 decoder layers x (2 attentions 2 x 1,050,624 + feed-forward 525,312 + 3 MCLN x (1,024 + 2 x (786,944 + 262,656))) + final LayerNorm 1,024 | 26,782,720 |
| relational memory: attention 1,050,624 + MLP 525,312 + W, U Linear(512, 1024) 2 x 525,312 | 2,626,560 |
| word embedding (V + 1) x 512 + output layer (V + 1) x 512 + (V + 1) biases | 1,025 (V + 1) |

The V + 1 rows are the V words (`<unk>` included) and the shared 0 token.
"""

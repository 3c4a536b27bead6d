"""CT-CLIP's image side: CT-ViT encoder, 512-d latent, checkpoint loading, the 18/21-label head, and embedding."""

"""CT data: CT-RATE / INSPECT readers, CT-CLIP preprocessing, the phantom dataset, embedding files."""

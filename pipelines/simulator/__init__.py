"""The demo provider-group simulator: realistic evidence exports with known ground truth."""

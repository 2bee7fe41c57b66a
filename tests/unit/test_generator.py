"""The one-step generator: its initial push-forward and its checkpoint."""

import torch

from wgf.generator import Generator


def test_generator_initial_pushforward_is_scaled_gaussian():
    gen = Generator(latent_dim=8, dim=16, init_scale=2.0)
    z = torch.randn(4, 8)
    torch.testing.assert_close(gen(z), 2.0 * torch.cat([z, z], dim=1))


def test_checkpoint_round_trip(tmp_path):
    gen = Generator(2, 2, hidden=8, layers=1)
    torch.save(gen.checkpoint(), tmp_path / "g.pt")
    loaded = Generator.load(str(tmp_path / "g.pt"))
    z = torch.randn(10, 2)
    torch.testing.assert_close(loaded(z), gen(z))

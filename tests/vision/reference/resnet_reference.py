# SPDX-License-Identifier: Apache-2.0
"""torchvision's ResNet as the reference of vikcse::ResNet (include/vikcse/vision/resnet.hpp).

Usage: /usr/bin/python3 resnet_reference.py OUT_DIR

For each case it builds a torchvision model with random weights (seeded), randomises every
BatchNorm's affine parameters and running statistics (so that eval-mode BatchNorm is not the
identity and a mistaken epsilon, mean or variance shows), and writes
  OUT_DIR/<case>/model.safetensors   the state dict, torchvision's keys
  OUT_DIR/<case>/config.json         the architecture, in vikcse::ResNetOptions' terms
  OUT_DIR/<case>-expected.safetensors
      images            float32 input [B, 3, H, W]
      features          torchvision float32 output of model with fc = Identity, [B, C]
      float64.features  the same float32 weights and images evaluated in float64
Cases:
  resnet50  torchvision.models.resnet50(weights=None), batch 2 at 224x224; its state dict keeps
            the 1000-class `fc` of a real torchvision checkpoint (the C++ loader must ignore it)
  tiny      torchvision's ResNet class and Bottleneck with layers [2, 1, 1, 2], groups 2,
            width_per_group 32 and a stem of 16 channels instead of 64 (torchvision's own
            _make_layer builds the stages), batch 3 at 64x64, no `fc` in the state dict
CTest runs it before vision_resnet_test (test vision_resnet_reference), so the C++ outputs are
compared with torchvision's computed in the same run, on this machine. The float64 outputs are
the exact values to ~1e-13 relative: comparing a float32 output with them measures its own error.
Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14).
"""
import json
import os
import sys

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "encoder", "reference"))
from reference_encoder import write_safetensors  # noqa: E402


class SmallStemResNet(ResNet):
    """torchvision's ResNet with `base_planes` channels in place of its hard-coded 64.

    torchvision's constructor builds everything for 64; this rebuilds the stem and the four stages
    with torchvision's own `_make_layer` and `Bottleneck` for a smaller base, so the test is cheap
    and still exercises groups, width_per_group and blocks without a downsampling shortcut.
    """

    def __init__(self, layers, base_planes, groups, width_per_group):
        super().__init__(Bottleneck, layers, groups=groups, width_per_group=width_per_group)
        self.inplanes = base_planes
        self.dilation = 1
        self.conv1 = nn.Conv2d(3, base_planes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_planes)
        self.layer1 = self._make_layer(Bottleneck, base_planes, layers[0])
        self.layer2 = self._make_layer(Bottleneck, base_planes * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(Bottleneck, base_planes * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(Bottleneck, base_planes * 8, layers[3], stride=2)
        for m in self.modules():  # torchvision's initialisation of the rebuilt layers
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def randomise_batch_norms(model, generator):
    """Affine weight ~ U(0.5, 1.5), bias ~ N(0, 0.1), running mean ~ N(0, 0.2), running var
    ~ U(0.5, 2), num_batches_tracked a random count (to check that integers load as integers)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(c, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))


def features(model, images):
    """The fc-less model's output, eval mode, no autograd."""
    model.eval()
    with torch.no_grad():
        return model(images)


def write_case(out_dir, name, model, config, images, keep_fc):
    """Writes the checkpoint, the config and the float32/float64 outputs of one case."""
    model.eval()
    state = model.state_dict()
    model.fc = nn.Identity()
    if not keep_fc:
        state = model.state_dict()
    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    write_safetensors(os.path.join(case_dir, "model.safetensors"), state)
    with open(os.path.join(case_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    got32 = features(model, images)
    got64 = features(model.double(), images.double())
    write_safetensors(os.path.join(out_dir, f"{name}-expected.safetensors"),
                      {"images": images, "features": got32, "float64.features": got64})
    gap = (got32.double() - got64).abs().max().item()
    scale = got64.abs().max().item()
    print(f"{name}: features {list(got64.shape)}, max |features| = {scale:.4g}, "
          f"torchvision max |float32 - float64| = {gap:.3g} ({gap / scale:.3g} of max)")


def main(out_dir):
    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}", flush=True)

    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    model = torchvision.models.resnet50(weights=None)
    randomise_batch_norms(model, generator)
    images = torch.randn(2, 3, 224, 224, generator=generator)
    config = {"layers": [3, 4, 6, 3], "base_planes": 64, "groups": 1, "width_per_group": 64}
    write_case(out_dir, "resnet50", model, config, images, keep_fc=True)

    torch.manual_seed(2)
    generator = torch.Generator().manual_seed(3)
    config = {"layers": [2, 1, 1, 2], "base_planes": 16, "groups": 2, "width_per_group": 32}
    model = SmallStemResNet(config["layers"], config["base_planes"], config["groups"], config["width_per_group"])
    randomise_batch_norms(model, generator)
    images = torch.randn(3, 3, 64, 64, generator=generator)
    write_case(out_dir, "tiny", model, config, images, keep_fc=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

"""A model file for ``levydyn nn measure --model-file examples/resnet18_model.py:build``.

ResNet-18 for 32x32 images (He et al. 2016, the CIFAR variant: a 3x3 stem without
max-pool, four stages of two basic blocks with 64, 128, 256, 512 channels, global average
pooling, a linear classifier): 11,173,962 parameters for 10 classes, the size of the
ResNet-18 whose gradient noise paper 004 measured on CIFAR-100 (Table 1). ``build()``
returns the network with seeded initial weights; to measure trained weights, load them
inside ``build`` (``model.load_state_dict(torch.load(path))``). The loss is the default
cross-entropy.

``build_imagenet_stem()`` is the same network with the ImageNet stem of He et al. (a 7x7
stride-2 convolution and a 3x3 stride-2 max-pool; 11,181,642 parameters): on 32x32 inputs
its four stages see 8x8 ... 1x1 feature maps instead of 32x32 ... 4x4, so a forward pass
costs about 1/15 of the CIFAR variant's multiply-adds for the same parameter count. It is
the variant for timing per-parameter statistics at 11 M parameters on a CPU, not a model of
what the papers trained.
"""
import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, n_classes: int = 10, in_channels: int = 3, imagenet_stem: bool = False):
        super().__init__()
        if imagenet_stem:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(64), nn.ReLU())
        blocks, c = [], 64
        for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)]
            c = c_out
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, n_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def build(n_classes: int = 10) -> nn.Module:
    torch.manual_seed(0)
    return ResNet18(n_classes)


def build_imagenet_stem(n_classes: int = 10) -> nn.Module:
    torch.manual_seed(0)
    return ResNet18(n_classes, imagenet_stem=True)

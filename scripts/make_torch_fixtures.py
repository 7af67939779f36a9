#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of tests/nn/test_torch_fixtures*.cpp into
tests/nn/fixtures/torch/: for each model below, in float32 and in float64,

  NAME_f32_params.npz  the model's state_dict, saved with torch.save and converted by
                       scripts/torch_state_dict.py to-npz (what tg::nn::load reads)
  NAME_f32_io.npz      "input"        the fixed input
                       "output"       the model's output for it (in train mode: no model here has
                                      dropout, and BatchNorm is meant to be checked in train mode)
                       "loss_weight"  a fixed random tensor of the output's shape
                       "loss"         sum(output * loss_weight), 0-d
                       "grad.NAME"    d loss / d parameter, for every parameter
                       and for models with BatchNorm, after that train-mode forward:
                       "buffer.NAME"  every buffer (running statistics, num_batches_tracked as a float)
                       "output_eval"  the output in eval mode, with those running statistics

(and the same with f64). Both precisions hold the same weights (the float64 model is the float32
one converted) and the same input and loss_weight (drawn in float32). Models (hyper-parameters
as the C++ tests construct them):

  cnn          Sequential(Conv2d(2, 3, 3, padding=1), ReLU, MaxPool2d(2), Flatten, Linear(27, 4)),
               input (2, 2, 6, 6)
  bn_cnn       Sequential(Conv2d(2, 4, 3, padding=1), BatchNorm2d(4), ReLU, MaxPool2d(2), Flatten,
               Linear(36, 3)), input (3, 2, 6, 6); BatchNorm's affine parameters and running
               statistics are set to random values (num_batches_tracked 2) so loading them is tested
  lstm         LSTM(5, 7, num_layers=2, batch_first=True), input (3, 4, 5) (batch, time, feature)
  gru          GRU(4, 6, num_layers=1, bidirectional=True), input (5, 2, 4) (time, batch, feature)
  transformer  TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0,
               batch_first=True), input (2, 3, 8)

Sequential children are named "0", "1", ... in both libraries, so the keys match tapegrad's.
The files are deterministic: running this again with the same torch gives the same bytes.
Usage: scripts/make_torch_fixtures.py [OUT_DIR]   (Debian's python3 with python3-torch)
"""
import collections
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_state_dict as converter  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "nn", "fixtures", "torch")
DTYPES = {"f32": torch.float32, "f64": torch.float64}
nn = torch.nn


def cnn():
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 4))


def bn_cnn():
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(36, 3))
    norm = model[1]
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
        norm.running_mean.uniform_(-0.3, 0.3)
        norm.running_var.uniform_(0.5, 2.0)
        norm.num_batches_tracked.fill_(2)
    return model


def lstm():
    return nn.LSTM(5, 7, num_layers=2, batch_first=True)


def gru():
    return nn.GRU(4, 6, num_layers=1, bidirectional=True)


def transformer():
    return nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)


# name: (builder, input shape, seed)
MODELS = collections.OrderedDict([
    ("cnn", (cnn, (2, 2, 6, 6), 11)),
    ("bn_cnn", (bn_cnn, (3, 2, 6, 6), 12)),
    ("lstm", (lstm, (3, 4, 5), 13)),
    ("gru", (gru, (5, 2, 4), 14)),
    ("transformer", (transformer, (2, 3, 8), 15)),
])


def first_output(result):
    """The output tensor (LSTM and GRU return (output, state))."""
    return result[0] if isinstance(result, tuple) else result


def numpy_of(tensor):
    return tensor.detach().cpu().numpy().copy()


def write_fixture(name, build, input_shape, seed, suffix, dtype, out_dir):
    torch.manual_seed(seed)
    model = build()  # built in float32, so both precisions share the weights
    x = torch.randn(*input_shape)
    model = model.to(dtype)
    x = x.to(dtype)
    model.train()

    # The state_dict goes through the converter exactly as a user's would: torch.save, then to-npz.
    with tempfile.TemporaryDirectory() as scratch:
        pt_path = os.path.join(scratch, "state_dict.pt")
        torch.save(model.state_dict(), pt_path)
        converter.pt_to_npz(pt_path, os.path.join(out_dir, f"{name}_{suffix}_params.npz"))

    io = collections.OrderedDict()
    io["input"] = numpy_of(x)
    output = first_output(model(x))
    loss_weight = torch.randn(output.shape).to(dtype)
    loss = (output * loss_weight).sum()
    loss.backward()
    io["output"] = numpy_of(output)
    io["loss_weight"] = numpy_of(loss_weight)
    io["loss"] = numpy_of(loss)
    for param_name, param in model.named_parameters():
        if param.grad is None:
            raise RuntimeError(f"{name}: parameter {param_name} got no gradient")
        io[f"grad.{param_name}"] = numpy_of(param.grad)
    buffers = list(model.named_buffers())
    if buffers:
        for buffer_name, buffer in buffers:
            io[f"buffer.{buffer_name}"] = numpy_of(buffer).astype(io["input"].dtype)
        model.eval()
        with torch.no_grad():
            io["output_eval"] = numpy_of(first_output(model(x)))
    converter.write_npz(io, os.path.join(out_dir, f"{name}_{suffix}_io.npz"))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for name, (build, input_shape, seed) in MODELS.items():
        for suffix, dtype in DTYPES.items():
            write_fixture(name, build, input_shape, seed, suffix, dtype, out_dir)
    print(f"wrote {2 * 2 * len(MODELS)} files to {out_dir} (torch {torch.__version__})")


if __name__ == "__main__":
    main()

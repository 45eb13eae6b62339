#!/usr/bin/env python3
"""The book's naive numerical gradient of TwoLayerNet, in numpy, for `gradpool bench --with-numpy`.

The functions below are the book's code ("Deep Learning from Scratch", common/functions.py,
common/gradient.py and ch04/two_layer_net.py), unchanged except that numerical_gradient can
visit a sample of the indices instead of all of them, and times each tensor.

Usage: python3 numpy_naive.py HEADER.json

HEADER.json (written by benchmarks/numpy.ts):
  {"rows": N, "inputSize": I, "hiddenSize": H, "outputSize": O, "h": 1e-4,
   "data": "input.bin",            # raw float64 little-endian: x (N*I, row-major), then W1 (I*H), b1 (H), W2 (H*O), b2 (O)
   "labels": [...],                # N integer labels
   "sample": {"W1": [flat indices], "b1": [...], "W2": [...], "b2": [...]} or null for every index,
   "reps": R, "warmup": W}

Prints one JSON object on stdout: per tensor and repetition the milliseconds spent on its sampled
indices, the gradient at those indices, the loss, versions and the BLAS-related environment.
Threading is whatever numpy does by default: OPENBLAS_* / OMP_* variables are read, never set.
"""
import json
import os
import platform
import resource
import sys
import time

import numpy as np


# common/functions.py
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # オーバーフロー対策
    return np.exp(x) / np.sum(np.exp(x))


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # 教師データがone-hot-vectorの場合、正解ラベルのインデックスに変換
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# common/gradient.py, numerical_gradient, visiting `indices` (flat) or every index when None.
def numerical_gradient(f, x, h=1e-4, indices=None):
    grad = np.zeros_like(x)

    if indices is None:
        it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
        visit = []
        while not it.finished:
            visit.append(it.multi_index)
            it.iternext()
    else:
        visit = [np.unravel_index(i, x.shape) for i in indices]

    for idx in visit:
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)  # f(x+h)

        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h)
        grad[idx] = (fxh1 - fxh2) / (2 * h)

        x[idx] = tmp_val  # 値を元に戻す

    return grad


# ch04/two_layer_net.py
class TwoLayerNet:
    def __init__(self, params):
        self.params = params

    def predict(self, x):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        return y

    # x:入力データ, t:教師データ
    def loss(self, x, t):
        y = self.predict(x)

        return cross_entropy_error(y, t)


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        header = json.load(f)
    rows, inputs, hidden, outputs = header['rows'], header['inputSize'], header['hiddenSize'], header['outputSize']
    h = header['h']
    data = np.fromfile(os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), header['data']), dtype='<f8')
    sizes = [('x', rows * inputs, (rows, inputs)), ('W1', inputs * hidden, (inputs, hidden)), ('b1', hidden, (hidden,)),
             ('W2', hidden * outputs, (hidden, outputs)), ('b2', outputs, (outputs,))]
    arrays, offset = {}, 0
    for name, size, shape in sizes:
        arrays[name] = data[offset:offset + size].astype(np.float64).reshape(shape).copy()
        offset += size
    if offset != data.size:
        raise SystemExit(f'numpy_naive.py: expected {offset} float64 values in {header["data"]}, got {data.size}')
    x = arrays.pop('x')
    t = np.array(header['labels'], dtype=np.int64)
    net = TwoLayerNet(arrays)
    sample = header.get('sample')

    # TwoLayerNet.numerical_gradient of the book, one tensor at a time (so each is timed).
    loss_W = lambda W: net.loss(x, t)
    tensors = ['W1', 'b1', 'W2', 'b2']
    ms = {name: [] for name in tensors}
    grads = {}
    for rep in range(header.get('warmup', 0) + header['reps']):
        for name in tensors:
            indices = None if sample is None else sample[name]
            started = time.perf_counter()
            grad = numerical_gradient(loss_W, net.params[name], h, indices)
            elapsed = (time.perf_counter() - started) * 1000
            if rep >= header.get('warmup', 0):
                ms[name].append(elapsed)
            flat = grad.reshape(-1)
            grads[name] = [float(flat[i]) for i in (range(flat.size) if indices is None else indices)]

    usage = resource.getrusage(resource.RUSAGE_SELF)
    env_names = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']
    blas = None
    try:
        blas_info = np.show_config(mode='dicts')['Build Dependencies']['blas']
        blas = f"{blas_info.get('name', '?')} {blas_info.get('version', '')}".strip()
    except Exception:  # older numpy: no mode='dicts'
        blas = None
    print(json.dumps({
        'python': platform.python_version(),
        'numpy': np.__version__,
        'blas': blas,
        'env': {name: os.environ.get(name) for name in env_names},
        'sampled': sample is not None,
        'msByTensor': ms,
        'gradient': grads,
        'loss': float(net.loss(x, t)),
        'cpuSeconds': usage.ru_utime + usage.ru_stime,
    }))


if __name__ == '__main__':
    main()

import numpy as np


def logreg(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

def mlp(W1, b1, W2, b2, X, labels):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[np.arange(X.shape[0]), labels].mean()

def rnn(Wh, Wx, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h ** 2)

def stencil(u, steps):
    u = u.copy()
    for k in range(steps):
        v = u.copy()
        v[1:-1] = u[1:-1] + 0.1 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u = v
    return (u ** 2).sum()

def power_iter(A, v, n):
    for i in range(n):
        v = A @ v
        v = v / np.linalg.norm(v)
    return v @ A @ v

def gmm(x, mu, log_s, logit_w):
    w = np.exp(logit_w) / np.sum(np.exp(logit_w))
    s = np.exp(log_s)
    d = (x[:, None] - mu[None, :]) / s[None, :]
    logp = -0.5 * d ** 2 - log_s[None, :] - 0.5 * np.log(2 * np.pi) + np.log(w)[None, :]
    m = logp.max(axis=1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.exp(logp - m).sum(axis=1)))

def bcast(x, s):
    y = x * s + s
    y[0] += s * 2.0
    z = y.T
    mask = z > 0.5
    return np.sum(z[mask]) + y[:, 1].sum() + x[..., 0].mean()

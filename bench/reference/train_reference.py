#!/usr/bin/env python3
"""The `paper` preset model of Moodlens in PyTorch, for a training-speed reference.

Same architecture and step as src/model + src/train/trainer.ts: per-modality 2-layer FFNN
encoders (ZCM 60, PIM 60, speech F) to width d; DRUW fusion (sum of c/(s_m^2+eps) * h_m, restraint
added to the loss); emotion FFNN; one post-norm transformer encoder layer (4 heads, FF 4d) over
the modality tokens + fused token with token-type embeddings, pooled at the fused token;
macro-micro with a per-user 2-layer FFNN (index_select of per-user weight tensors) and
P = lam*E_macro + (1-lam)*E_micro; 9 sigmoid heads; per-task 1 - CCC; DRUW loss (DWA weights
fixed within the epoch); SGD Nesterov 0.9, weight decay 1e-4 (dense, as PyTorch users write it).

--pooled: the transformer layer evaluated at the pooled (fused) token only, with the layer's own
parameters (keys/values from all tokens; query, output projection, norms and feed-forward for
that token) — the same arithmetic as Moodlens' applyEncoderAt; without it, nn.TransformerEncoderLayer
over all tokens, as a PyTorch user would write it.

Usage: train_reference.py --batch 16 --seconds 8 [--users 298 --speech 25 --width 64 --threads 1 --pooled]
Prints one JSON line: {"batch":..,"steps":..,"samples_per_s":..,"p10_samples_per_s":..,"torch":..,"threads":N}
(p10: batch / 10th-percentile step time — the less-disturbed steps on a shared machine)
"""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def encoder_at_last(tr, tokens, pad):
    """nn.TransformerEncoderLayer (post-norm, ReLU, no dropout) output at the last token only."""
    B, T, d = tokens.shape
    h = tr.self_attn.num_heads; dh = d // h
    qkv = F.linear(tokens, tr.self_attn.in_proj_weight, tr.self_attn.in_proj_bias)  # [B,T,3d]
    q = qkv[:, -1, :d].reshape(B, h, 1, dh)
    k = qkv[:, :, d:2 * d].reshape(B, T, h, dh).transpose(1, 2)
    v = qkv[:, :, 2 * d:].reshape(B, T, h, dh).transpose(1, 2)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)                                   # [B,h,1,T]
    s = s.masked_fill(pad[:, None, None, :], float('-inf'))
    ctx = (torch.softmax(s, -1) @ v).reshape(B, d)
    x1 = tr.norm1(tokens[:, -1] + tr.self_attn.out_proj(ctx))
    return tr.norm2(x1 + tr.linear2(F.relu(tr.linear1(x1))))



class UserFfnn(nn.Module):
    def __init__(self, users, d, h):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(users, d, h).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d)))
        self.b1 = nn.Parameter(torch.empty(users, h).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d)))
        self.w2 = nn.Parameter(torch.empty(users, h, d).uniform_(-1 / math.sqrt(h), 1 / math.sqrt(h)))
        self.b2 = nn.Parameter(torch.empty(users, d).uniform_(-1 / math.sqrt(h), 1 / math.sqrt(h)))

    def forward(self, x, u):
        hid = torch.relu(torch.bmm(x.unsqueeze(1), self.w1.index_select(0, u)).squeeze(1) + self.b1.index_select(0, u))
        return torch.bmm(hid.unsqueeze(1), self.w2.index_select(0, u)).squeeze(1) + self.b2.index_select(0, u)


class Paper(nn.Module):
    def __init__(self, dims, users, K=9, d=64, heads=4, micro=32, lam=0.5, pooled=False):
        super().__init__()
        self.pooled = pooled
        M = len(dims)
        self.enc = nn.ModuleList([nn.Sequential(nn.Linear(n, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU()) for n in dims])
        self.c = 1.0 / M
        self.s = nn.Parameter(torch.full((M,), math.sqrt(self.c)))
        self.emotion = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        self.tr = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True)
        self.type_emb = nn.Parameter(torch.empty(M + 1, d).uniform_(-0.1, 0.1))
        self.micro = UserFfnn(users, d, micro)
        self.heads = nn.Linear(d, K)
        self.lam = lam
        self.ks = nn.Parameter(torch.full((K,), 0.33))
        self.K = K

    def forward(self, xs, mask, u, known):
        h = torch.stack([e(x) for e, x in zip(self.enc, xs)], 1)              # [B,M,d]
        w = self.c / (self.s ** 2 + 1e-3)
        fused = (h * (mask * w).unsqueeze(2)).sum(1)
        e = self.emotion(fused)
        tokens = torch.cat([h, e.unsqueeze(1)], 1) + self.type_emb
        pad = torch.cat([mask, torch.ones_like(mask[:, :1])], 1) == 0
        macro = encoder_at_last(self.tr, tokens, pad) if self.pooled else self.tr(tokens, src_key_padding_mask=pad)[:, -1]
        lam = self.lam * known + (1 - known)
        p = lam * macro + (1 - lam) * self.micro(macro, u)
        return torch.sigmoid(self.heads(p))

    def loss(self, pred, y, m, dwa):
        n = m.sum(0); valid = (n >= 2).float(); nn_ = n.clamp(min=1)
        my = (y * m).sum(0) / nn_; mp = (pred * m).sum(0) / nn_
        dy = (y - my) * m; dp = (pred - mp) * m
        vy = (dy ** 2).sum(0) / nn_; vp = (dp ** 2).sum(0) / nn_; cov = (dy * dp).sum(0) / nn_
        L = 1 - 2 * cov / (vy + vp + (my - mp) ** 2 + 1e-8)
        w = dwa + (1.0 / self.K) / (self.ks ** 2 + 1e-3)
        total = (w * L * valid).sum() + torch.log1p(self.ks ** 2).sum() + (1 - self.ks.abs().sum()).abs()
        fusion_restraint = torch.log1p(self.s ** 2).sum() + (1 - self.s.abs().sum()).abs()
        return total + fusion_restraint


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seconds', type=float, default=8)
    ap.add_argument('--users', type=int, default=298)
    ap.add_argument('--speech', type=int, default=25)
    ap.add_argument('--width', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--pooled', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    B, U = a.batch, a.users
    model = Paper([60, 60, a.speech], U, d=a.width, pooled=a.pooled)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    pool = 64
    data = [([torch.randn(B, 60), torch.randn(B, 60), torch.randn(B, a.speech)], torch.rand(B, 9),
             torch.randint(0, U, (B,))) for _ in range(pool)]
    mask = torch.ones(B, 3); lm = torch.ones(B, 9); known = torch.ones(B, 1); dwa = torch.ones(9)

    def step(i):
        xs, y, u = data[i % pool]
        opt.zero_grad(set_to_none=True)
        loss = model.loss(model(xs, mask, u, known), y, lm, dwa)
        loss.backward()
        opt.step()
        return loss

    for i in range(10):
        step(i)
    n, t0, each = 0, time.perf_counter(), []
    while time.perf_counter() - t0 < a.seconds:
        s = time.perf_counter(); step(n); each.append(time.perf_counter() - s); n += 1
    dt = time.perf_counter() - t0
    each.sort()
    p10 = each[len(each) // 10]
    print(json.dumps({"batch": B, "steps": n, "seconds": round(dt, 3), "samples_per_s": round(n * B / dt, 1),
                      "p10_samples_per_s": round(B / p10, 1),
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "pooled": a.pooled}))


if __name__ == '__main__':
    main()

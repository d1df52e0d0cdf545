"""Python port of src/util/random.ts (xoshiro128** seeded by splitmix32), used only to
generate reference numbers: a bootstrap computed here with the same seed draws exactly the same
participants as the TypeScript one, so the intervals can be compared number for number."""

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed):
        self._x = seed & M32
        self.s0 = self._splitmix()
        self.s1 = self._splitmix()
        self.s2 = self._splitmix()
        self.s3 = self._splitmix()

    def _splitmix(self):
        self._x = (self._x + 0x9E3779B9) & M32
        z = self._x
        z = _imul(z ^ (z >> 16), 0x85EBCA6B)
        z = _imul(z ^ (z >> 13), 0xC2B2AE35)
        return (z ^ (z >> 16)) & M32

    def next_u32(self):
        r = _imul(_rotl(_imul(self.s1, 5), 7), 9)
        t = (self.s1 << 9) & M32
        self.s2 ^= self.s0
        self.s3 ^= self.s1
        self.s1 ^= self.s2
        self.s0 ^= self.s3
        self.s2 ^= t
        self.s3 = _rotl(self.s3, 11)
        return r

    def next(self):
        return self.next_u32() / 4294967296.0

    def int(self, n):
        import math
        return math.floor(self.next() * n)

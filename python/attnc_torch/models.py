"""nn.Transformer with token embeddings, sinusoidal positions and a
generator, whose state_dict names are those attnc's MLIRGen gives a .attn
model (encoder.layers.{i}..., src_embed.weight, generator.weight, ...)."""
import math

import numpy as np
import torch
from torch import nn


def sinusoidal(length, width, offset=0):
    """pe(t, 2i) = sin(t / 10000^(2i/width)), pe(t, 2i+1) = cos(...)."""
    position = np.arange(offset, offset + length, dtype=np.float64)[:, None]
    frequency = np.power(10000.0, -np.arange(0, width, 2, dtype=np.float64) / width)
    pe = np.zeros((length, width))
    pe[:, 0::2] = np.sin(position * frequency)
    pe[:, 1::2] = np.cos(position * frequency)
    return torch.tensor(pe, dtype=torch.float32)


class Seq2Seq(nn.Transformer):
    """An encoder-decoder: post-norm nn.Transformer (ReLU, batch_first, no
    dropout) with embeddings scaled by sqrt(d_model) plus sinusoidal
    positions, and a linear generator over the target vocabulary."""

    def __init__(self, d_model, heads, layers, ffn, src_vocab, tgt_vocab, dropout=0.0):
        super().__init__(d_model=d_model, nhead=heads, num_encoder_layers=layers,
                         num_decoder_layers=layers, dim_feedforward=ffn,
                         dropout=dropout, batch_first=True)
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def embed(self, table, tokens):
        positions = sinusoidal(tokens.shape[1], self.d_model).to(tokens.device)
        return table(tokens) * math.sqrt(self.d_model) + positions

    def encode(self, src, src_pad=None):
        return self.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src_pad)

    def decode(self, tgt, tgt_pad, memory, src_pad=None):
        causal = self.generate_square_subsequent_mask(tgt.shape[1]).to(tgt.device)
        y = self.decoder(self.embed(self.tgt_embed, tgt), memory, tgt_mask=causal,
                         tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.generator(y)

    def greedy(self, src, src_pad, bos, eos, steps):
        """Greedy decoding the usual PyTorch way: the whole target prefix is
        decoded again at every step (nn.Transformer has no cache)."""
        memory = self.encode(src, src_pad)
        tokens = torch.full((src.shape[0], 1), bos, dtype=torch.long, device=src.device)
        finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        out = []
        for _ in range(steps):
            logits = self.decode(tokens, None, memory, src_pad)[:, -1]
            best = torch.where(finished, torch.full_like(tokens[:, 0], eos), logits.argmax(-1))
            out.append(best)
            finished |= best == eos
            tokens = torch.cat([tokens, best[:, None]], dim=1)
            if finished.all():
                break
        return torch.stack(out, dim=1)

    def greedy_cached(self, src, src_pad, bos, eos, steps):
        """Greedy decoding with a key/value cache, written with this module's
        own weights: each step runs the decoder on the newest token only,
        the self-attention reading the keys and values of earlier steps and
        the cross-attention the memory's, projected once. The same tokens as
        greedy(), without recomputing the prefix."""
        F = torch.nn.functional
        batch, heads, width = src.shape[0], self.nhead, self.d_model
        head_dim = width // heads
        memory = self.encode(src, src_pad)
        bias = torch.zeros(batch, 1, 1, src.shape[1])
        if src_pad is not None:
            bias = bias.masked_fill(src_pad[:, None, None, :], float("-inf"))

        def split(x):  # [batch, len, width] -> [batch, heads, len, head_dim]
            return x.view(batch, -1, heads, head_dim).transpose(1, 2)

        def attend(q, k, v, mask_bias=None):
            scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim)
            if mask_bias is not None:
                scores = scores + mask_bias
            return (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, 1, width)

        layers = self.decoder.layers
        cross = []
        for layer in layers:
            w, b = layer.multihead_attn.in_proj_weight, layer.multihead_attn.in_proj_bias
            kv = F.linear(memory, w[width:], b[width:])
            cross.append((split(kv[..., :width]), split(kv[..., width:])))
        cache = [None] * len(layers)
        token = torch.full((batch,), bos, dtype=torch.long)
        finished = torch.zeros(batch, dtype=torch.bool)
        out = []
        for t in range(steps):
            x = self.tgt_embed(token)[:, None] * math.sqrt(width) + \
                sinusoidal(1, width, offset=t)
            for i, layer in enumerate(layers):
                sa = layer.self_attn
                q, k, v = F.linear(x, sa.in_proj_weight, sa.in_proj_bias).chunk(3, -1)
                k, v = split(k), split(v)
                if cache[i] is not None:
                    k = torch.cat([cache[i][0], k], 2)
                    v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
                y = attend(split(q), k, v)
                x = layer.norm1(x + sa.out_proj(y))
                ca = layer.multihead_attn
                q = F.linear(x, ca.in_proj_weight[:width], ca.in_proj_bias[:width])
                y = attend(split(q), *cross[i], bias)
                x = layer.norm2(x + ca.out_proj(y))
                x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
            if self.decoder.norm is not None:
                x = self.decoder.norm(x)
            best = self.generator(x)[:, 0].argmax(-1)
            best = torch.where(finished, torch.full_like(best, eos), best)
            out.append(best)
            finished |= best == eos
            token = best
            if finished.all():
                break
        return torch.stack(out, dim=1)

    def load_safetensors(self, tensors):
        state = {name: torch.from_numpy(np.array(value)) for name, value in tensors.items()}
        self.load_state_dict(state, strict=True)
        return self

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

    def load_safetensors(self, tensors):
        state = {name: torch.from_numpy(np.array(value)) for name, value in tensors.items()}
        self.load_state_dict(state, strict=True)
        return self

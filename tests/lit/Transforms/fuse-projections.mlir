// attn-fuse-projections turns linears that read one input into one linear.
// RUN: %attn-opt %s --attn-fuse-projections | FileCheck %s

// Q, K and V of self-attention: one linear over concatenated weights and
// biases, read through slices.
// CHECK-LABEL: func @self_attention_qkv
func @self_attention_qkv(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %wq = attn.param "q.weight" : tensor<32x32xf32>
  %bq = attn.param "q.bias" : tensor<32xf32>
  %wk = attn.param "k.weight" : tensor<8x32xf32>
  %bk = attn.param "k.bias" : tensor<8xf32>
  %wv = attn.param "v.weight" : tensor<8x32xf32>
  %bv = attn.param "v.bias" : tensor<8xf32>
  // CHECK-NOT: attn.linear
  // CHECK: %[[W:.*]] = attn.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<32x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<48x32xf32>
  // CHECK: %[[B:.*]] = attn.concat {{.*}} -> tensor<48xf32>
  // CHECK: %[[QKV:.*]] = attn.linear %arg0, %[[W]], %[[B]] : {{.*}} -> tensor<?x?x48xf32>
  // CHECK: %[[Q:.*]] = attn.slice %[[QKV]] {axis = 2 : i64, offset = 0 : i64, size = 32 : i64}
  // CHECK: %[[K:.*]] = attn.slice %[[QKV]] {axis = 2 : i64, offset = 32 : i64, size = 8 : i64}
  // CHECK: %[[V:.*]] = attn.slice %[[QKV]] {axis = 2 : i64, offset = 40 : i64, size = 8 : i64}
  // CHECK: attn.attention %[[Q]], %[[K]], %[[V]]
  // CHECK-NOT: attn.linear
  %q = attn.linear %x, %wq, %bq : (tensor<?x?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<?x?x32xf32>
  %k = attn.linear %x, %wk, %bk : (tensor<?x?x32xf32>, tensor<8x32xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %v = attn.linear %x, %wv, %bv : (tensor<?x?x32xf32>, tensor<8x32xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %o = attn.attention %q, %k, %v attributes {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64} : (tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x32xf32>
  return %o : tensor<?x?x32xf32>
}

// Linears with different inputs, activations or bias presence stay apart.
// CHECK-LABEL: func @different_groups
func @different_groups(%x: tensor<?x16xf32>, %y: tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %w = attn.param "w" : tensor<4x16xf32>
  %b = attn.param "b" : tensor<4xf32>
  // CHECK-COUNT-4: attn.linear
  // CHECK-NOT: attn.concat
  %a = attn.linear %x, %w, %b : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %c = attn.linear %y, %w, %b : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %d = attn.linear %x, %w, %b {activation = #attn.activation<relu>} : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %e = attn.linear %x, %w : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %a, %c, %d, %e : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// Two decoder layers project the same memory, but layer 0 uses its K and V
// before layer 1 projects: each layer's pair is fused on its own.
// CHECK-LABEL: func @runs_split_at_uses
func @runs_split_at_uses(%m: tensor<?x?x16xf32>, %w: tensor<16x16xf32>) -> tensor<?x?x16xf32> {
  // CHECK: attn.concat {{.*}} -> tensor<32x16xf32>
  // CHECK: attn.linear {{.*}} -> tensor<?x?x32xf32>
  // CHECK: attn.add
  // CHECK: attn.concat {{.*}} -> tensor<32x16xf32>
  // CHECK: attn.linear {{.*}} -> tensor<?x?x32xf32>
  %k0 = attn.linear %m, %w : (tensor<?x?x16xf32>, tensor<16x16xf32>) -> tensor<?x?x16xf32>
  %v0 = attn.linear %m, %w : (tensor<?x?x16xf32>, tensor<16x16xf32>) -> tensor<?x?x16xf32>
  %s0 = attn.add %k0, %v0 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %k1 = attn.linear %m, %w : (tensor<?x?x16xf32>, tensor<16x16xf32>) -> tensor<?x?x16xf32>
  %v1 = attn.linear %m, %w : (tensor<?x?x16xf32>, tensor<16x16xf32>) -> tensor<?x?x16xf32>
  %s1 = attn.add %k1, %v1 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = attn.add %s0, %s1 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %s : tensor<?x?x16xf32>
}

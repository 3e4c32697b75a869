// attn-shape-inference ranks every intermediate value and the function's
// results, keeping dynamic sizes dynamic.
// RUN: %attn-opt %s --attn-shape-inference | FileCheck %s

// CHECK-LABEL: func @encoder_block
// CHECK-SAME: -> (tensor<2x?x32xf32>, tensor<2x4x?x?xf32>)
func @encoder_block(%x: tensor<2x?x32xf32>, %len: tensor<2xi32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %w = attn.param "w" : tensor<96x32xf32>
  %g = attn.param "g" : tensor<32xf32>
  // CHECK: attn.linear {{.*}} -> tensor<2x?x96xf32>
  %qkv = attn.linear %x, %w : (tensor<2x?x32xf32>, tensor<96x32xf32>) -> tensor<*xf32>
  // CHECK: attn.slice {{.*}} -> tensor<2x?x32xf32>
  %q = attn.slice %qkv {axis = 2 : i64, offset = 0 : i64, size = 32 : i64} : tensor<*xf32> -> tensor<*xf32>
  %k = attn.slice %qkv {axis = 2 : i64, offset = 32 : i64, size = 32 : i64} : tensor<*xf32> -> tensor<*xf32>
  %v = attn.slice %qkv {axis = 2 : i64, offset = 64 : i64, size = 32 : i64} : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.attention {{.*}} -> (tensor<2x?x32xf32>, tensor<2x4x?x?xf32>)
  %o, %p = attn.attention %q, %k, %v lengths(%len) attributes {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, probs = #attn.probs<per_head>} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<2xi32>) -> (tensor<*xf32>, tensor<*xf32>)
  // CHECK: attn.add {{.*}} -> tensor<2x?x32xf32>
  %s = attn.add %x, %o : (tensor<2x?x32xf32>, tensor<*xf32>) -> tensor<*xf32>
  // CHECK: attn.layer_norm {{.*}} -> tensor<2x?x32xf32>
  %n = attn.layer_norm %s, %g, %g {epsilon = 1.0e-5 : f64} : (tensor<*xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<*xf32>
  // CHECK: return {{.*}} : tensor<2x?x32xf32>, tensor<2x4x?x?xf32>
  return %n, %p : tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func @grouped_query_and_embedding
// CHECK-SAME: -> tensor<?x?x64xf32>
func @grouped_query_and_embedding(%t: tensor<?x?xi32>) -> tensor<*xf32> {
  %e = attn.param "e" : tensor<100x64xf32>
  %wkv = attn.param "wkv" : tensor<32x64xf32>
  // CHECK: attn.embedding {{.*}} -> tensor<?x?x64xf32>
  %x = attn.embedding %t, %e {positions = #attn.positions<sinusoidal>, scale = 8.0 : f64} : (tensor<?x?xi32>, tensor<100x64xf32>) -> tensor<*xf32>
  %kv = attn.linear %x, %wkv : (tensor<*xf32>, tensor<32x64xf32>) -> tensor<*xf32>
  %k = attn.slice %kv {axis = 2 : i64, offset = 0 : i64, size = 16 : i64} : tensor<*xf32> -> tensor<*xf32>
  // CHECK: attn.attention {{.*}} -> tensor<?x?x64xf32>
  %o = attn.attention %x, %k, %k attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %o : tensor<*xf32>
}

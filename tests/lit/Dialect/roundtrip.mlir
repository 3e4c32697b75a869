// Every op parses and prints back to the same form.
// RUN: %attn-opt %s | %attn-opt | FileCheck %s

// CHECK-LABEL: func @layers
func @layers(%tokens: tensor<?x?xi32>, %x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  // CHECK: attn.param "w" : tensor<24x8xf32>
  %w = attn.param "w" : tensor<24x8xf32>
  %b = attn.param "b" : tensor<24xf32>
  %g = attn.param "g" : tensor<8xf32>
  %e = attn.param "e" : tensor<10x8xf32>
  // CHECK: attn.embedding %{{.*}}, %{{.*}} {positions = #attn.positions<sinusoidal>, scale = 2.000000e+00 : f64}
  %emb = attn.embedding %tokens, %e {positions = #attn.positions<sinusoidal>, scale = 2.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>) -> tensor<?x?x8xf32>
  // CHECK: attn.embedding %{{.*}}, %{{.*}}, %{{.*}} {positions = #attn.positions<learned>, scale = 1.000000e+00 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>, tensor<64x8xf32>)
  %pos = attn.param "pos" : tensor<64x8xf32>
  %learned = attn.embedding %tokens, %e, %pos {positions = #attn.positions<learned>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>, tensor<64x8xf32>) -> tensor<?x?x8xf32>
  // CHECK: attn.linear %{{.*}}, %{{.*}}, %{{.*}} {activation = #attn.activation<gelu>}
  %h = attn.linear %x, %w, %b {activation = #attn.activation<gelu>} : (tensor<?x?x8xf32>, tensor<24x8xf32>, tensor<24xf32>) -> tensor<?x?x24xf32>
  // CHECK: attn.linear %{{.*}}, %{{.*}} {weights = #attn.weights<bf16>}
  %hb = attn.linear %x, %w {weights = #attn.weights<bf16>} : (tensor<?x?x8xf32>, tensor<24x8xf32>) -> tensor<?x?x24xf32>
  // CHECK: attn.slice %{{.*}} {axis = 2 : i64, offset = 8 : i64, size = 8 : i64}
  %s = attn.slice %h {axis = 2 : i64, offset = 8 : i64, size = 8 : i64} : tensor<?x?x24xf32> -> tensor<?x?x8xf32>
  // CHECK: attn.activation %{{.*}} {kind = #attn.activation<relu>}
  %r = attn.activation %s {kind = #attn.activation<relu>} : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  // CHECK: attn.add
  %sum = attn.add %r, %emb : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  // CHECK: attn.layer_norm %{{.*}} residual %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64}
  %n = attn.layer_norm %sum residual %x, %g, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  // CHECK: attn.softmax
  %p = attn.softmax %n : tensor<?x?x8xf32> -> tensor<?x?x8xf32>
  // CHECK: attn.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<8xf32>, tensor<8xf32>) -> tensor<16xf32>
  %c = attn.concat %g, %g {axis = 0 : i64} : (tensor<8xf32>, tensor<8xf32>) -> tensor<16xf32>
  return %p : tensor<?x?x8xf32>
}

// CHECK-LABEL: func @attention_variants
func @attention_variants(%q: tensor<?x?x64xf32>, %kv: tensor<?x?x16xf32>, %len: tensor<?xi32>, %bias: tensor<?x1x?x?xf32>, %w: tensor<4x16xf32>, %w32: tensor<4x32xf32>, %ids: tensor<?x?xi32>) {
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) bias(%{{.*}}) attributes {empty_rows = #attn.empty_rows<uniform>, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64, probs = #attn.probs<head_mean>, scale = 2.500000e-01 : f64, score_fn = "(add (sub (mul (float 30) (tanh (div s (float 30)))) (mul (alibi_slope h 4) (abs (sub q k)))) (bias_at))"}
  %o, %p = attn.attention %q, %kv, %kv lengths(%len) bias(%bias) attributes {empty_rows = #attn.empty_rows<uniform>, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64, probs = #attn.probs<head_mean>, scale = 0.25 : f64, score_fn = "(add (sub (mul (float 30) (tanh (div s (float 30)))) (mul (alibi_slope h 4) (abs (sub q k)))) (bias_at))"} : (tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?xi32>, tensor<?x1x?x?xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x?xf32>)
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%{{.*}}) segments(%{{.*}}) attributes {head_dim = 16 : i64
  %s = attn.attention %q, %q, %q lengths(%len) segments(%ids) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?xi32>, tensor<?x?xi32>) -> tensor<?x?x64xf32>
  // CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} score_tensors(%{{.*}}) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (tensor 0 h (t5_bucket (sub k q) 32 128 1)))", score_tensor_names = ["rel"]}
  %t5 = attn.attention %q, %q, %q score_tensors(%w32) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (tensor 0 h (t5_bucket (sub k q) 32 128 1)))", score_tensor_names = ["rel"]} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x32xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.attention {{.*}} score_weight(%{{.*}}) attributes {{{.*}}scoring = #attn.scoring<additive>}
  %a = attn.attention %q, %q, %q score_weight(%w) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scoring = #attn.scoring<additive>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x16xf32>) -> tensor<?x?x64xf32>
  // CHECK: attn.attention
  // CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index):
  // CHECK: attn.yield %{{.*}} : i1
  %m = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %keep = arith.cmpi sle, %ki, %qi : index
    attn.yield %keep : i1
  } : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

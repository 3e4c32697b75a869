// The dialect's local algebra, run by the canonicalizer.
// RUN: %attn-opt %s --canonicalize | FileCheck %s

// A concatenation of adjacent slices of PyTorch's packed in_proj_weight is
// the packed weight itself.
// CHECK-LABEL: func @concat_of_slices
func @concat_of_slices() -> tensor<96x32xf32> {
  // CHECK-NEXT: %[[W:.*]] = attn.param "in_proj_weight"
  // CHECK-NEXT: return %[[W]]
  %w = attn.param "in_proj_weight" : tensor<96x32xf32>
  %a = attn.slice %w {axis = 0 : i64, offset = 0 : i64, size = 32 : i64} : tensor<96x32xf32> -> tensor<32x32xf32>
  %b = attn.slice %w {axis = 0 : i64, offset = 32 : i64, size = 32 : i64} : tensor<96x32xf32> -> tensor<32x32xf32>
  %c = attn.slice %w {axis = 0 : i64, offset = 64 : i64, size = 32 : i64} : tensor<96x32xf32> -> tensor<32x32xf32>
  %cat = attn.concat %a, %b, %c {axis = 0 : i64} : (tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<96x32xf32>
  return %cat : tensor<96x32xf32>
}

// Cross-attention's K and V: rows [32, 96) of the packed weight.
// CHECK-LABEL: func @partial_concat_of_slices
func @partial_concat_of_slices() -> tensor<64x32xf32> {
  // CHECK: attn.slice %{{.*}} {axis = 0 : i64, offset = 32 : i64, size = 64 : i64}
  // CHECK-NOT: attn.concat
  %w = attn.param "in_proj_weight" : tensor<96x32xf32>
  %b = attn.slice %w {axis = 0 : i64, offset = 32 : i64, size = 32 : i64} : tensor<96x32xf32> -> tensor<32x32xf32>
  %c = attn.slice %w {axis = 0 : i64, offset = 64 : i64, size = 32 : i64} : tensor<96x32xf32> -> tensor<32x32xf32>
  %cat = attn.concat %b, %c {axis = 0 : i64} : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  return %cat : tensor<64x32xf32>
}

// CHECK-LABEL: func @slice_folds
func @slice_folds(%x: tensor<?x48xf32>, %a: tensor<4xf32>, %b: tensor<6xf32>) -> (tensor<?x48xf32>, tensor<?x8xf32>, tensor<6xf32>) {
  // A slice of a whole dimension is its input.
  %whole = attn.slice %x {axis = 1 : i64, offset = 0 : i64, size = 48 : i64} : tensor<?x48xf32> -> tensor<?x48xf32>
  // A slice of a slice is one slice.
  // CHECK: attn.slice %arg0 {axis = 1 : i64, offset = 20 : i64, size = 8 : i64}
  %outer = attn.slice %x {axis = 1 : i64, offset = 16 : i64, size = 16 : i64} : tensor<?x48xf32> -> tensor<?x16xf32>
  %inner = attn.slice %outer {axis = 1 : i64, offset = 4 : i64, size = 8 : i64} : tensor<?x16xf32> -> tensor<?x8xf32>
  // A slice that selects one input of a concat is that input.
  %cat = attn.concat %a, %b {axis = 0 : i64} : (tensor<4xf32>, tensor<6xf32>) -> tensor<10xf32>
  %part = attn.slice %cat {axis = 0 : i64, offset = 4 : i64, size = 6 : i64} : tensor<10xf32> -> tensor<6xf32>
  // CHECK: return %arg0, %{{.*}}, %arg2
  return %whole, %inner, %part : tensor<?x48xf32>, tensor<?x8xf32>, tensor<6xf32>
}

// CHECK-LABEL: func @activation_into_linear
func @activation_into_linear(%x: tensor<?x16xf32>, %w: tensor<64x16xf32>) -> tensor<?x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = attn.linear %arg0, %arg1 {activation = #attn.activation<gelu>}
  // CHECK-NEXT: return %[[Y]]
  %h = attn.linear %x, %w : (tensor<?x16xf32>, tensor<64x16xf32>) -> tensor<?x64xf32>
  %y = attn.activation %h {kind = #attn.activation<gelu>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// The linear's plain result is still needed: no fusion.
// CHECK-LABEL: func @activation_with_other_users
func @activation_with_other_users(%x: tensor<?x16xf32>, %w: tensor<64x16xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: attn.linear %arg0, %arg1 :
  // CHECK: attn.activation
  %h = attn.linear %x, %w : (tensor<?x16xf32>, tensor<64x16xf32>) -> tensor<?x64xf32>
  %y = attn.activation %h {kind = #attn.activation<relu>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %h, %y : tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func @residual_into_layer_norm
func @residual_into_layer_norm(%x: tensor<?x16xf32>, %y: tensor<?x16xf32>, %g: tensor<16xf32>) -> tensor<?x16xf32> {
  // CHECK-NEXT: %[[N:.*]] = attn.layer_norm %arg0 residual %arg1, %arg2, %arg2
  // CHECK-NEXT: return %[[N]]
  %s = attn.add %x, %y : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %n = attn.layer_norm %s, %g, %g {epsilon = 1.0e-5 : f64} : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %n : tensor<?x16xf32>
}

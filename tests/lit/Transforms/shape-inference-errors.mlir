// Operands that only disagree once ranked are reported by shape inference.
// RUN: %attn-opt %s --attn-shape-inference --split-input-file --verify-diagnostics

func @ranks_differ(%x: tensor<?x?x32xf32>, %y: tensor<?x32xf32>, %w: tensor<16x32xf32>) -> tensor<*xf32> {
  %a = attn.linear %x, %w : (tensor<?x?x32xf32>, tensor<16x32xf32>) -> tensor<*xf32>
  %b = attn.linear %y, %w : (tensor<?x32xf32>, tensor<16x32xf32>) -> tensor<*xf32>
  // expected-error @+1 {{'attn.add' op operand ranks differ: [?, ?, 16] vs [?, 16]}}
  %s = attn.add %a, %b : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %s : tensor<*xf32>
}

// -----

func @axis_out_of_range(%x: tensor<?x32xf32>, %w: tensor<16x32xf32>) -> tensor<*xf32> {
  %a = attn.linear %x, %w : (tensor<?x32xf32>, tensor<16x32xf32>) -> tensor<*xf32>
  // expected-error @+1 {{'attn.slice' op axis 2 is out of range for [?, 16]}}
  %s = attn.slice %a {axis = 2 : i64, offset = 0 : i64, size = 4 : i64} : tensor<*xf32> -> tensor<*xf32>
  return %s : tensor<*xf32>
}

// Every verifier rule of the attn dialect, one case each.
// RUN: %attn-opt %s --split-input-file --verify-diagnostics

func @param_needs_a_name() {
  // expected-error @+1 {{'attn.param' op needs a non-empty name}}
  %w = attn.param "" : tensor<4xf32>
  return
}

// -----

func @param_must_be_static() {
  // expected-error @+1 {{'attn.param' op must have a static shape, got [?, 4]}}
  %w = attn.param "w" : tensor<?x4xf32>
  return
}

// -----

func @linear_weight_rank(%x: tensor<?x?x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'attn.linear' op weight must have rank 2, got [8]}}
  %y = attn.linear %x, %w : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @linear_in_features(%x: tensor<?x?x8xf32>, %w: tensor<16x4xf32>) {
  // expected-error @+1 {{'attn.linear' op input's innermost dimension must equal the weight's in_features (8 vs 4)}}
  %y = attn.linear %x, %w : (tensor<?x?x8xf32>, tensor<16x4xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @linear_bias_size(%x: tensor<?x?x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'attn.linear' op bias size must equal the weight's out_features (8 vs 16)}}
  %y = attn.linear %x, %w, %b : (tensor<?x?x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @linear_result_width(%x: tensor<?x?x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'attn.linear' op result's innermost dimension must equal the weight's out_features (8 vs 16)}}
  %y = attn.linear %x, %w : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @linear_result_rank(%x: tensor<?x?x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'attn.linear' op result rank must equal the input rank, got [?, 16] for input [?, ?, 8]}}
  %y = attn.linear %x, %w : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func @linear_leading_dims(%x: tensor<2x?x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'attn.linear' op result's leading dimensions must equal the input's (3 vs 2)}}
  %y = attn.linear %x, %w : (tensor<2x?x8xf32>, tensor<16x8xf32>) -> tensor<3x?x16xf32>
  return
}

// -----

func @activation_none(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'attn.activation' op kind must be relu or gelu}}
  %y = attn.activation %x {kind = #attn.activation<none>} : tensor<?x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func @add_shapes(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) {
  // expected-error @+1 {{'attn.add' op operand shapes differ: [?, 8] vs [?, 4]}}
  %y = attn.add %a, %b : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @layer_norm_epsilon(%x: tensor<?x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op epsilon must be positive, got 0}}
  %y = attn.layer_norm %x, %g, %g {epsilon = 0.0 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @layer_norm_gamma(%x: tensor<?x8xf32>, %g: tensor<4xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op gamma size must equal the normalized dimension (4 vs 8)}}
  %y = attn.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f64} : (tensor<?x8xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @layer_norm_residual(%x: tensor<?x8xf32>, %r: tensor<?x4xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op input and residual shapes differ: [?, 8] vs [?, 4]}}
  %y = attn.layer_norm %x residual %r, %g, %g {epsilon = 1.0e-5 : f64} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func @embedding_scale(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{'attn.embedding' op scale must be positive, got -1}}
  %y = attn.embedding %t, %e {positions = #attn.positions<none>, scale = -1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @embedding_odd_width(%t: tensor<?x?xi32>, %e: tensor<10x7xf32>) {
  // expected-error @+1 {{'attn.embedding' op sinusoidal positions need an even width, got 7}}
  %y = attn.embedding %t, %e {positions = #attn.positions<sinusoidal>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x7xf32>) -> tensor<?x?x7xf32>
  return
}

// -----

func @embedding_learned_without_table(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{'attn.embedding' op positions = learned needs a position table operand}}
  %y = attn.embedding %t, %e {positions = #attn.positions<learned>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @embedding_table_without_learned(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>, %p: tensor<64x8xf32>) {
  // expected-error @+1 {{'attn.embedding' op has a position table but positions = sinusoidal}}
  %y = attn.embedding %t, %e, %p {positions = #attn.positions<sinusoidal>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>, tensor<64x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @embedding_position_table_width(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>, %p: tensor<64x6xf32>) {
  // expected-error @+1 {{'attn.embedding' op position table width must equal the table's width (6 vs 8)}}
  %y = attn.embedding %t, %e, %p {positions = #attn.positions<learned>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>, tensor<64x6xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func @embedding_width(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{'attn.embedding' op result width must equal the table's width (16 vs 8)}}
  %y = attn.embedding %t, %e {positions = #attn.positions<none>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func @slice_range(%x: tensor<?x?x12xf32>) {
  // expected-error @+1 {{'attn.slice' op range [8, 16) exceeds dimension 2 of [?, ?, 12]}}
  %y = attn.slice %x {axis = 2 : i64, offset = 8 : i64, size = 8 : i64} : tensor<?x?x12xf32> -> tensor<?x?x8xf32>
  return
}

// -----

func @slice_axis(%x: tensor<?x12xf32>) {
  // expected-error @+1 {{'attn.slice' op axis 2 is out of range for [?, 12]}}
  %y = attn.slice %x {axis = 2 : i64, offset = 0 : i64, size = 4 : i64} : tensor<?x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func @slice_result(%x: tensor<?x12xf32>) {
  // expected-error @+1 {{'attn.slice' op result dimension 1 is wrong (6 vs 4)}}
  %y = attn.slice %x {axis = 1 : i64, offset = 0 : i64, size = 4 : i64} : tensor<?x12xf32> -> tensor<?x6xf32>
  return
}

// -----

func @concat_sum(%a: tensor<4x8xf32>, %b: tensor<2x8xf32>) {
  // expected-error @+1 {{'attn.concat' op result size along the axis must be the inputs' sum (7 vs 6)}}
  %y = attn.concat %a, %b {axis = 0 : i64} : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<7x8xf32>
  return
}

// -----

func @concat_off_axis(%a: tensor<4x8xf32>, %b: tensor<2x6xf32>) {
  // expected-error @+1 {{'attn.concat' op inputs differ off the concatenation axis (6 vs 8)}}
  %y = attn.concat %a, %b {axis = 0 : i64} : (tensor<4x8xf32>, tensor<2x6xf32>) -> tensor<6x8xf32>
  return
}

// -----

func @attention_kv_heads_divide(%q: tensor<?x?x64xf32>, %k: tensor<?x?x48xf32>) {
  // expected-error @+1 {{'attn.attention' op num_kv_heads (3) must divide num_heads (4)}}
  %o = attn.attention %q, %k, %k attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 3 : i64} : (tensor<?x?x64xf32>, tensor<?x?x48xf32>, tensor<?x?x48xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_positive_heads(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op num_heads, num_kv_heads and head_dim must be positive, got 0, 4 and 16}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 0 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_query_channels(%q: tensor<?x?x60xf32>, %k: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op query has 60 channels, but num_heads (4) x head_dim (16) = 64}}
  %o = attn.attention %q, %k, %k attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x60xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_head_dims_match(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>) {
  // expected-error @+1 {{'attn.attention' op key has 32 channels, but num_kv_heads (1) x head_dim (16) = 16; query and key heads must have the same size}}
  %o = attn.attention %q, %k, %k attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 1 : i64} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x128xf32>
  return
}

// -----

func @attention_value_channels(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x33xf32>) {
  // expected-error @+1 {{'attn.attention' op value has 33 channels, which num_kv_heads (2) does not divide}}
  %o = attn.attention %q, %k, %v attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x33xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_rank(%q: tensor<?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op query must have rank 3, got [?, 64]}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_batch(%q: tensor<2x?x64xf32>, %k: tensor<3x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op key batch must equal query batch (3 vs 2)}}
  %o = attn.attention %q, %k, %k attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<2x?x64xf32>, tensor<3x?x64xf32>, tensor<3x?x64xf32>) -> tensor<2x?x64xf32>
  return
}

// -----

func @attention_kv_lengths_equal(%q: tensor<?x?x64xf32>, %k: tensor<?x10x64xf32>, %v: tensor<?x12x64xf32>) {
  // expected-error @+1 {{'attn.attention' op key and value lengths must be equal (12 vs 10)}}
  %o = attn.attention %q, %k, %v attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x10x64xf32>, tensor<?x12x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_result_channels(%q: tensor<?x?x64xf32>, %v: tensor<?x?x32xf32>) {
  // expected-error @+1 {{'attn.attention' op result channels must be num_heads x value head size (64 vs 32)}}
  %o = attn.attention %q, %q, %v attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_lengths_batch(%q: tensor<2x?x64xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_lengths must have one entry per batch (3 vs 2)}}
  %o = attn.attention %q, %q, %q lengths(%len) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<2x?x64xf32>, tensor<2x?x64xf32>, tensor<2x?x64xf32>, tensor<3xi32>) -> tensor<2x?x64xf32>
  return
}

// -----

func @attention_bias_without_modifier(%q: tensor<?x?x64xf32>, %b: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.attention' op the bias operand needs a score_fn that reads it with (bias_at)}}
  %o = attn.attention %q, %q, %q bias(%b) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_bias_heads(%q: tensor<?x?x64xf32>, %b: tensor<1x3x?x?xf32>) {
  // expected-error @+1 {{'attn.attention' op bias heads must be 1 or 4, got 3}}
  %o = attn.attention %q, %q, %q bias(%b) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (bias_at))"} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<1x3x?x?xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_bias_unread(%q: tensor<?x?x64xf32>, %b: tensor<1x4x?x?xf32>) {
  // expected-error @+1 {{'attn.attention' op score_fn reads (bias_at) exactly when there is a bias operand}}
  %o = attn.attention %q, %q, %q bias(%b) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(mul s (float 2))"} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<1x4x?x?xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_alibi_heads(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op score_fn's alibi_slope must name the op's 4 heads}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(sub s (mul (alibi_slope h 8) (abs (sub q k))))"} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_additive_needs_weight(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op additive scoring needs a score_weight operand}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scoring = #attn.scoring<additive>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_additive_scale(%q: tensor<?x?x64xf32>, %w: tensor<4x16xf32>) {
  // expected-error @+1 {{'attn.attention' op additive scoring takes no scale}}
  %o = attn.attention %q, %q, %q score_weight(%w) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 1.0 : f64, scoring = #attn.scoring<additive>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x16xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_score_weight_shape(%q: tensor<?x?x64xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_weight columns must equal head_dim (8 vs 16)}}
  %o = attn.attention %q, %q, %q score_weight(%w) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scoring = #attn.scoring<additive>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x8xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_dot_with_score_weight(%q: tensor<?x?x64xf32>, %w: tensor<4x16xf32>) {
  // expected-error @+1 {{'attn.attention' op score_weight is only for additive scoring}}
  %o = attn.attention %q, %q, %q score_weight(%w) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x16xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_probs_without_mode(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op a probabilities result goes with probs = per_head or head_mean, and only then}}
  %o, %p = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x4x?x?xf32>)
  return
}

// -----

func @attention_probs_heads(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op probabilities heads must equal num_heads (2 vs 4)}}
  %o, %p = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, probs = #attn.probs<per_head>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x2x?x?xf32>)
  return
}

// -----

func @attention_mask_arguments(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op mask predicate must take four index arguments (batch, head, query, key)}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} {
  ^bb0(%q_idx: index, %k_idx: index):
    %keep = arith.cmpi sle, %k_idx, %q_idx : index
    attn.yield %keep : i1
  } : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_mask_ops(%q: tensor<?x?x64xf32>) {
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} {
  ^bb0(%b: index, %h: index, %q_idx: index, %k_idx: index):
    // expected-error @+1 {{'attn.param' op is not allowed in a mask predicate; use arith ops}}
    %w = attn.param "w" : tensor<4xf32>
    %keep = arith.cmpi sle, %k_idx, %q_idx : index
    attn.yield %keep : i1
  } : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_segments_batch(%q: tensor<2x?x64xf32>, %ids: tensor<3x?xi32>) {
  // expected-error @+1 {{'attn.attention' op segment_ids must have one row per batch (3 vs 2)}}
  %o = attn.attention %q, %q, %q segments(%ids) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<2x?x64xf32>, tensor<2x?x64xf32>, tensor<2x?x64xf32>, tensor<3x?xi32>) -> tensor<2x?x64xf32>
  return
}

// -----

func @attention_score_fn_bad_text(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op score_fn: malformed expression '(add s (nosuch k))': unknown op 'nosuch' at offset 14}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (nosuch k))", score_tensor_names = []} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_segments_keys(%q: tensor<2x7x64xf32>, %ids: tensor<2x8xi32>) {
  // expected-error @+1 {{'attn.attention' op segment_ids must have one entry per key (8 vs 7)}}
  %o = attn.attention %q, %q, %q segments(%ids) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<2x7x64xf32>, tensor<2x7x64xf32>, tensor<2x7x64xf32>, tensor<2x8xi32>) -> tensor<2x7x64xf32>
  return
}

// -----

func @attention_score_fn_missing_tensor(%q: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.attention' op score_fn reads tensor 0, but there are 0 score_tensors}}
  %o = attn.attention %q, %q, %q attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (tensor 0 h))", score_tensor_names = []} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_segments_rank(%q: tensor<2x7x64xf32>, %ids: tensor<2xi32>) {
  // expected-error @+1 {{'attn.attention' op segment_ids must have rank 2}}
  %o = attn.attention %q, %q, %q segments(%ids) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<2x7x64xf32>, tensor<2x7x64xf32>, tensor<2x7x64xf32>, tensor<2xi32>) -> tensor<2x7x64xf32>
  return
}

// -----

func @attention_score_tensor_rank(%q: tensor<?x?x64xf32>, %t: tensor<4x32xf32>) {
  // expected-error @+1 {{'attn.attention' op score tensor 0 must have a static shape of rank 1}}
  %o = attn.attention %q, %q, %q score_tensors(%t) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, score_fn = "(add s (tensor 0 h))", score_tensor_names = ["rel"]} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @attention_score_tensors_without_fn(%q: tensor<?x?x64xf32>, %t: tensor<4xf32>) {
  // expected-error @+1 {{'attn.attention' op score_tensors and score_tensor_names need a score_fn}}
  %o = attn.attention %q, %q, %q score_tensors(%t) attributes {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<4xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func @embedding_dynamic_position_rows(%t: tensor<?x?xi32>, %e: tensor<10x8xf32>, %p: tensor<?x8xf32>) {
  // expected-error @+1 {{'attn.embedding' op position table needs a static number of rows, at least 1, got [?, 8]}}
  %y = attn.embedding %t, %e, %p {positions = #attn.positions<learned>, scale = 1.0 : f64} : (tensor<?x?xi32>, tensor<10x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
  return
}

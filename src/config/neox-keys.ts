// GPT-NeoX keys that tabtron recognises but does not model in its typed config, with
// NeoX's default for each (null where NeoX has none). A config may set them: they are
// accepted, and a value other than the default draws a warning (see warnings.ts).
// Keys that tabtron models (with types and defaults) live in schema.ts instead.
// Sources: the NeoX configuration reference (shared/seeds/001_*) and NeoX's argument
// classes (parallelism, model, optimizer, LR, logging, other, tokenizer, training,
// text generation, MoE, DeepSpeed config and DeepSpeed runner).

export const OTHER_NEOX_KEYS: Readonly<Record<string, unknown>> = {
  // parallelism / launch state
  world_size: null, is_pipe_parallel: false, sequence_parallel: false, rank: null, local_rank: null,
  distributed_backend: 'nccl', lazy_mpu_init: false, deepspeed: true, deepspeed_mpi: false,
  deepspeed_slurm: false, deepscale: false, deepscale_config: null, user_script: null,
  iteration: null, do_train: null, do_valid: null, do_test: null, onnx_safe: false,
  // model
  num_kv_heads: null, sliding_window_width: null, mlp_multiple_of: 1, expansion_factor: null,
  layernorm_fusion: false, rmsnorm_fusion: false, use_qk_layernorm: false,
  rpe_num_buckets: 32, rpe_max_distance: 128, opt_pos_emb_offset: 0,
  sparsity_config: null, sparsity: 'none', num_unique_layers: null, param_sharing_style: 'grouped',
  geglu: false, openai_gelu: false, use_flashattn_swiglu: false,
  apply_residual_connection_post_layernorm: false,
  scaled_upper_triang_masked_softmax_fusion: false, scaled_masked_softmax_fusion: false,
  bias_gelu_fusion: false, bias_dropout_fusion: false, rope_fusion: false,
  fp16_lm_cross_entropy: false, apply_query_key_layer_scaling: false, use_cpu_initialization: false,
  attention_softmax_in_fp32: false, rotary_save_freqs_buffer: false, gmlp_attn_dim: 64,
  gpt_j_tied: false, use_bias_in_norms: true, use_bias_in_attn_linear: true, use_bias_in_mlp: true,
  soft_prompt_tuning: null, output_layer_parallelism: 'column',
  mamba_selective_scan_fusion: false, mamba_causal_conv_fusion: false, mamba_inner_func_fusion: false,
  mamba_selective_fp32_params: true, mamba_use_bias_in_conv: true, mamba_use_bias_in_linears: false,
  te_columnparallel: false, te_rowparallel: false, te_layernorm_mlp: false, te_mha: false,
  te_fp8_format: 'hybrid', te_fp8_wgrad: true, te_fp8_amax_history_len: 1,
  te_fp8_amax_compute_algo: 'most_recent', te_fp8_margin: 0, te_fp8_mha: false,
  dim_att: null, head_size: null, ffn_dim: null,
  // optimizer (NeoX derives these from `optimizer` and `zero_optimization`)
  optimizer_type: 'adam', use_bnb_optimizer: false, zero_stage: null, zero_reduce_scatter: null,
  zero_contiguous_gradients: null, zero_reduce_bucket_size: null, zero_allgather_bucket_size: null,
  zero_allow_untested_optimizer: false,
  // LR scheduler
  lr_decay_fraction: null, override_lr_scheduler: false, use_checkpoint_lr_scheduler: false,
  // logging
  use_wandb: null, wandb_group: null, wandb_run_name: null, wandb_team: null, wandb_project: 'neox',
  wandb_host: 'https://api.wandb.ai', wandb_init_all_ranks: false, git_hash: null, log_dir: null,
  tensorboard_dir: null, use_comet: null, comet_workspace: null, comet_project: null,
  comet_experiment_name: null, comet_tags: null, comet_others: null,
  peak_theoretical_tflops: null, log_grad_pct_zeros: false, log_param_norm: false,
  log_grad_norm: false, log_optimizer_states: false, log_gradient_noise_scale: false,
  gradient_noise_scale_n_batches: 5, gradient_noise_scale_cpu_offload: false,
  memory_profiling: false, memory_profiling_path: null, profile: false,
  profile_step_start: 10, profile_step_stop: 12,
  // other
  short_seq_prob: 0.1, eod_mask_loss: false, reset_position_ids: false, reset_attention_mask: false,
  adlr_autoresume: false, adlr_autoresume_interval: 1000,
  // tokenizer
  padded_vocab_size: null,
  // training data
  use_shared_fs: true, train_data_paths: null, valid_data_paths: null, test_data_paths: null,
  train_label_data_paths: null, valid_label_data_paths: null, test_label_data_paths: null,
  train_reward_data_paths: null, valid_reward_data_paths: null, test_reward_data_paths: null,
  pos_train_data_paths: null, neg_train_data_paths: null, pos_valid_data_paths: null,
  neg_valid_data_paths: null, pos_test_data_paths: null, neg_test_data_paths: null,
  pos_train_label_data_paths: null, neg_train_label_data_paths: null,
  pos_valid_label_data_paths: null, neg_valid_label_data_paths: null,
  pos_test_label_data_paths: null, neg_test_label_data_paths: null,
  train_data_weights: null, valid_data_weights: null, test_data_weights: null,
  weight_by_num_documents: false, weighted_sampler_alpha: 1.0, weighted_document_limit: null,
  data_impl: 'infer', pack_impl: 'packed', dataset_impl: 'gpt2', train_impl: 'normal',
  allow_chopped: true, mmap_warmup: false, num_workers: 2, exit_interval: null,
  dpo_fp32: true, dpo_reference_free: false, dpo_beta: 0.1, kto_fp32: true,
  kto_desirable_weight: 1.0, kto_undesirable_weight: 1.0, z_loss: 0.0, kto_beta: 0.1,
  fp32_reinforce: true, kl_impl: 'mse', kl_div_beta: 0.1, reinforce_leave_one_out: false,
  // checkpoints
  s3_path: null, s3_chunk_size: 104857600, config_files: null,
  checkpoint_validation_with_forward_pass: false, checkpoint_scale: 'linear', extra_save_iters: null,
  keep_last_n_checkpoints: null, no_save_optim: false, no_save_rng: false, no_load_optim: false,
  no_load_rng: false, finetune: false, load_universal: false,
  // training loop
  batch_size: null, gas: null, train_epochs: null, clip_grad: 1.0, hysteresis: 2,
  dynamic_loss_scale: null, loss_scale: null, loss_scale_window: 1000.0, min_scale: 1.0,
  char_level_ppl: false,
  // activation checkpointing details
  deepspeed_activation_checkpointing: true, contiguous_checkpointing: false, checkpoint_in_cpu: false,
  synchronize_each_layer: false, profile_backward: false, partition_activations: false,
  distribute_checkpointed_activations: false,
  // muP
  use_mup: false, coord_check: false, save_base_shapes: false, base_shapes_file: null,
  mup_init_scale: 1.0, mup_attn_temp: 1.0, mup_output_temp: 1.0, mup_embedding_mult: 1.0,
  mup_rp_embedding_mult: 1.0, mup_width_scale: 2,
  // text generation / evaluation
  text_gen_type: null, precompute_model_name: null, temperature: 0.0, top_p: 0.0, top_k: 0,
  return_logits: false, maximum_tokens: 64, prompt_end: '\n', sample_input_file: null,
  sample_output_file: 'samples.txt', num_samples: 1, recompute: false, eval_results_prefix: '',
  eval_tasks: null,
  // mixture of experts
  moe_num_experts: 1, moe_expert_interval: 1, moe_top_k: 1, moe_router_type: 'sinkhorn',
  moe_lbl_in_fp32: false, moe_jitter_eps: null,
  // DeepSpeed config
  scheduler: null, fp32_allreduce: false, prescale_gradients: false, gradient_predivide_factor: 1.0,
  sparse_gradients: false, amp: null, curriculum_learning: null, curriculum_seqlen: 0,
  steps_per_print: 10, wall_clock_breakdown: false, dump_state: false, flops_profiler: null,
  communication_data_type: null, autotuning: null, activation_checkpointing: null,
  sparse_attention: null, data_efficiency: null, tensorboard: null, wandb: null, csv_monitor: null,
  elasticity: null, comms_logger: null, compression_training: null, checkpoint: null,
  data_types: null, deepspeed_extra_args: null,
  // DeepSpeed runner
  hostfile: null, include: null, exclude: null, num_nodes: -1, num_gpus: null, master_port: 29500,
  master_addr: null, launcher: 'pdsh', force_multi: false, detect_nvlink_pairs: false,
  autotuning_run: null, no_ssh_check: false, comment: null,
};

// Package windowing holds the window and trigger options shared by every windowed branch of
// Tributary (product_metrics, trending_products, …) and maps them onto Beam's window and
// trigger packages. One Trigger value says when every branch's panes fire; each branch has its
// own Window (fixed or sliding). Options validates the flags behind them, refusing the
// combinations known to crash or mis-fire on Prism v2.77 (see Options.Validate).
package windowing

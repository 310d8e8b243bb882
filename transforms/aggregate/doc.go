// Package aggregate computes Tributary's windowed analytics. Rows are built in a DoFn after a
// GroupByKey rather than with a lifted combine: on Prism v2.77 the PaneInfo seen after
// beam.CombinePerKey is blank, while a DoFn after GroupByKey reads the real pane, and every
// windowed row must carry its true pane (see README, "Known limitations").
//
// # Panes
//
// Every row carries its pane (schemas.PaneOf); how the panes of one (window, key) relate under
// accumulating and discarding triggers, and which row a consumer keeps, is the pane contract in
// schemas/pane.go. trending_products rows are always complete rankings (see TrendingProducts).
package aggregate

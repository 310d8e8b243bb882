// Package aggregate computes Tributary's windowed analytics. Rows are built in a DoFn after a
// GroupByKey rather than with a lifted combine: on Prism v2.77 the PaneInfo seen after
// beam.CombinePerKey is blank, while a DoFn after GroupByKey reads the real pane, and every
// windowed row must carry its true pane (see README, "Known limitations").
//
// # Panes
//
// Every row carries window_start, window_end, pane_index, pane_timing (EARLY, ON_TIME, LATE) and
// is_final, so a consumer knows which firing of which window it holds. The windowing.Trigger
// shared by the branches decides how the panes of one (window, key) relate:
//
//   - accumulating (the default): a pane holds everything seen so far in the window. Keep the
//     row with the highest pane_index per (window, key) and drop the others; it is the total.
//     This is what a sink that replaces an earlier pane by a later one assumes.
//   - discarding: a pane holds only what arrived since the previous pane. Keep every row and
//     sum the counts and amounts per (window, key); replacing would lose data. distinct_users
//     is the count of one pane and cannot be summed (the sum is an upper bound).
//
// With discarding panes the ON_TIME pane of a (window, key) is left out when early panes have
// already emitted all its elements (Beam's FIRE_IF_NONEMPTY), and is_final may stay false when
// no element comes after the last firing: neither is needed to reach the total.
//
// trending_products rows are always complete rankings, whatever the mode: a later pane of a
// window replaces an earlier one (see TrendingProducts).
package aggregate

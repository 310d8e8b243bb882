package schemas

import (
	"encoding/json"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterCoder(reflect.TypeOf(TrendingProducts{}), encodeTrendingProducts, decodeTrendingProducts)
}

// TrendingProducts is one row of trending_products: the top products by purchases of one
// sliding window, as of one pane. Every row holds the window's complete ranking, whatever the
// accumulation mode, so a later pane of the same window replaces an earlier one.
type TrendingProducts struct {
	Pane
	Ranking []RankedProduct `json:"ranking"`
}

// RankedProduct is one entry of a trending ranking. Ranks start at 1 and follow purchases
// (descending), then revenue_usd (descending), then product_id (ascending), so ties are broken
// the same way on every run.
type RankedProduct struct {
	Rank       int64   `json:"rank"`
	ProductID  string  `json:"product_id"`
	Category   string  `json:"category"`
	Purchases  int64   `json:"purchases"`
	RevenueUSD Numeric `json:"revenue_usd"`
}

func encodeTrendingProducts(v TrendingProducts) ([]byte, error) { return json.Marshal(v) }

func decodeTrendingProducts(b []byte) (TrendingProducts, error) {
	var v TrendingProducts
	return v, json.Unmarshal(b, &v)
}

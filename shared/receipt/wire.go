package receipt

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the payload message:
//
//	message Receipt {
//	  string token_id = 1;  string order_no = 2;  string campaign_id = 3;
//	  string sku = 4;       string user_id = 5;   int64 qty = 6;
//	  int64 seq = 7;        int64 first_slot = 8; int64 amount = 9;
//	  int64 reserved_at = 10; int64 pay_by = 11;  // unix ms
//	  string key_id = 12;
//	  bool shadow = 13;     // written only when true
//	  repeated int64 slots = 14 [packed = true]; // written only when the
//	                        // slots are not first_slot..first_slot+qty-1
//	}
const (
	fieldTokenID protowire.Number = iota + 1
	fieldOrderNo
	fieldCampaignID
	fieldSKU
	fieldUserID
	fieldQty
	fieldSeq
	fieldFirstSlot
	fieldAmount
	fieldReservedAt
	fieldPayBy
	fieldKeyID
	fieldShadow
	fieldSlots
	fieldKind
)

// marshal writes r in field order, so equal receipts give equal bytes.
func marshal(r Receipt) []byte {
	b := make([]byte, 0, 160)
	b = appendString(b, fieldTokenID, r.TokenID)
	b = appendString(b, fieldOrderNo, r.OrderNo)
	b = appendString(b, fieldCampaignID, r.CampaignID)
	b = appendString(b, fieldSKU, r.SKU)
	b = appendString(b, fieldUserID, r.UserID)
	b = appendInt(b, fieldQty, int64(r.Qty))
	b = appendInt(b, fieldSeq, int64(r.Seq))
	b = appendInt(b, fieldFirstSlot, int64(r.FirstSlot))
	b = appendInt(b, fieldAmount, r.Amount)
	b = appendInt(b, fieldReservedAt, r.ReservedAt.UnixMilli())
	b = appendInt(b, fieldPayBy, r.PayBy.UnixMilli())
	b = appendString(b, fieldKeyID, r.KeyID)
	if r.Shadow { // a real receipt is the bytes it was before shadow traffic existed
		b = appendInt(b, fieldShadow, 1)
	}
	if r.Slots != nil { // a range is the bytes it was before slots were given back
		var packed []byte
		for _, n := range r.Slots {
			packed = protowire.AppendVarint(packed, uint64(n))
		}
		b = protowire.AppendTag(b, fieldSlots, protowire.BytesType)
		b = protowire.AppendBytes(b, packed)
	}
	if r.Kind != "" {
		b = appendString(b, fieldKind, r.Kind)
	}
	return b
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, n protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// unmarshal reads a payload; unknown fields are skipped, as protobuf does.
func unmarshal(b []byte) (Receipt, error) {
	var r Receipt
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, protowire.ParseError(n)
		}
		b = b[n:]
		m, err := r.consume(num, typ, b)
		if err != nil {
			return r, err
		}
		b = b[m:]
	}
	return r, r.validate()
}

// consume reads the value of field num from b into r and returns its length.
func (r *Receipt) consume(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
	if s := r.stringField(num); s != nil {
		return consumeString(typ, b, s)
	}
	if set := r.intField(num); set != nil {
		return consumeInt(typ, b, set)
	}
	if num == fieldSlots {
		return r.consumeSlots(typ, b)
	}
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	return n, nil
}

func (r *Receipt) stringField(num protowire.Number) *string {
	switch num {
	case fieldTokenID:
		return &r.TokenID
	case fieldOrderNo:
		return &r.OrderNo
	case fieldCampaignID:
		return &r.CampaignID
	case fieldSKU:
		return &r.SKU
	case fieldUserID:
		return &r.UserID
	case fieldKeyID:
		return &r.KeyID
	case fieldKind:
		return &r.Kind
	}
	return nil
}

func (r *Receipt) intField(num protowire.Number) func(int64) {
	switch num {
	case fieldQty:
		return func(v int64) { r.Qty = int(v) }
	case fieldSeq:
		return func(v int64) { r.Seq = int(v) }
	case fieldFirstSlot:
		return func(v int64) { r.FirstSlot = int(v) }
	case fieldAmount:
		return func(v int64) { r.Amount = v }
	case fieldReservedAt:
		return func(v int64) { r.ReservedAt = time.UnixMilli(v).UTC() }
	case fieldPayBy:
		return func(v int64) { r.PayBy = time.UnixMilli(v).UTC() }
	case fieldShadow:
		return func(v int64) { r.Shadow = v != 0 }
	}
	return nil
}

var errWireType = errors.New("wrong wire type")

func consumeString(typ protowire.Type, b []byte, dst *string) (int, error) {
	if typ != protowire.BytesType {
		return 0, errWireType
	}
	s, n := protowire.ConsumeString(b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	*dst = s
	return n, nil
}

func consumeInt(typ protowire.Type, b []byte, set func(int64)) (int, error) {
	if typ != protowire.VarintType {
		return 0, errWireType
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	if int64(v) < 0 || v > 1<<53 {
		return 0, fmt.Errorf("value %d out of range", v)
	}
	set(int64(v))
	return n, nil
}

// consumeSlots reads the packed slot list.
func (r *Receipt) consumeSlots(typ protowire.Type, b []byte) (int, error) {
	if typ != protowire.BytesType {
		return 0, errWireType
	}
	packed, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	r.Slots = []int{}
	for len(packed) > 0 {
		v, m := protowire.ConsumeVarint(packed)
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		if v > 1<<31 {
			return 0, fmt.Errorf("slot %d out of range", v)
		}
		r.Slots = append(r.Slots, int(v))
		packed = packed[m:]
	}
	return n, nil
}

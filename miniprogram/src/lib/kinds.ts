// The six kinds of listing and the typed attributes each one has, in the
// server's vocabulary (matcher/src/attributes.rs): what the guided form asks.

export type Side = 'offer' | 'request'
export type Kind = 'space' | 'equipment' | 'material' | 'logistics' | 'workforce' | 'service'

export const SIDES: { value: Side; label: string }[] = [
  { value: 'offer', label: '我能提供' },
  { value: 'request', label: '我需要' },
]

export const SIDE_LABEL: Record<Side, string> = { offer: '供应', request: '需求' }

export const KINDS: { value: Kind; label: string; hint: string }[] = [
  { value: 'space', label: '厂房仓储', hint: '闲置厂房、仓库、冷库' },
  { value: 'equipment', label: '设备', hint: '设备出租、共享机时、代加工' },
  { value: 'material', label: '物料', hint: '余料、原材料、包装' },
  { value: 'logistics', label: '物流运力', hint: '车辆、回程车、冷链' },
  { value: 'workforce', label: '用工', hint: '共享员工、临时用工' },
  { value: 'service', label: '服务', hint: '检测、维修、认证' },
]

export const KIND_LABEL: Record<Kind, string> = Object.fromEntries(KINDS.map((k) => [k.value, k.label])) as Record<
  Kind,
  string
>

export type AttrType = 'number' | 'int' | 'text' | 'select' | 'date' | 'bool' | 'skills'

export interface AttrSpec {
  key: string
  label: string
  type: AttrType
  /** Shown after the input (the unit the key is measured in). */
  unit?: string
  options?: string[]
  min?: number
  max?: number
  placeholder?: string
}

export const ATTRIBUTES: Record<Kind, AttrSpec[]> = {
  space: [
    { key: 'area_m2', label: '面积', type: 'number', unit: '㎡', max: 1e7 },
    { key: 'usage', label: '用途', type: 'select', options: ['生产', '仓储', '冷库', '办公'] },
    { key: 'fire_class', label: '消防等级', type: 'select', options: ['甲', '乙', '丙', '丁', '戊'] },
    { key: 'ceiling_height_m', label: '层高', type: 'number', unit: '米', max: 100 },
    { key: 'floor_load_t_per_m2', label: '地面承重', type: 'number', unit: '吨/㎡', max: 100 },
    { key: 'power_kva', label: '电力容量', type: 'number', unit: 'kVA', max: 1e6 },
    { key: 'crane_t', label: '行车', type: 'number', unit: '吨', max: 2000 },
    { key: 'floor', label: '楼层', type: 'int', min: -5, max: 200 },
  ],
  equipment: [
    { key: 'equipment_type', label: '设备类型', type: 'text', placeholder: '如 注塑机、叉车、CNC' },
    { key: 'mode', label: '方式', type: 'select', options: ['出租', '出售', '共享机时', '代加工'] },
    { key: 'clamping_force_t', label: '锁模力', type: 'number', unit: '吨', max: 20000 },
    { key: 'tonnage_t', label: '吨位', type: 'number', unit: '吨', max: 1e5 },
    { key: 'travel_mm', label: '行程', type: 'number', unit: 'mm', max: 1e6 },
    { key: 'brand', label: '品牌', type: 'text' },
    { key: 'model', label: '型号', type: 'text' },
  ],
  material: [
    { key: 'material_name', label: '物料名称', type: 'text', placeholder: '如 PP 颗粒、冷轧板' },
    { key: 'grade', label: '牌号/规格', type: 'text' },
    { key: 'packaging', label: '包装', type: 'text' },
  ],
  logistics: [
    { key: 'origin', label: '起点', type: 'text', placeholder: '如 宁波北仑' },
    { key: 'destination', label: '终点', type: 'text', placeholder: '如 上海洋山' },
    { key: 'departure_date', label: '发车日期', type: 'date' },
    { key: 'vehicle_type', label: '车型', type: 'text', placeholder: '如 9.6米厢式' },
    { key: 'capacity_t', label: '载重', type: 'number', unit: '吨', max: 1e4 },
    { key: 'volume_m3', label: '容积', type: 'number', unit: 'm³', max: 1e4 },
    { key: 'cold_chain', label: '冷链', type: 'bool' },
    { key: 'hazmat', label: '危险品', type: 'bool' },
  ],
  workforce: [
    { key: 'job_type', label: '工种', type: 'text', placeholder: '如 普工、焊工' },
    { key: 'headcount', label: '人数', type: 'int', unit: '人', min: 1, max: 100000 },
    { key: 'period_days', label: '周期', type: 'int', unit: '天', min: 1, max: 3650 },
    { key: 'skills', label: '技能', type: 'skills', placeholder: '用逗号分隔' },
  ],
  service: [
    { key: 'service_type', label: '服务类型', type: 'text', placeholder: '如 环境检测、模具维修' },
    { key: 'certification', label: '资质', type: 'text', placeholder: '如 CMA' },
  ],
}

/** Quantity units offered per kind (any unit may be typed; these are the common ones). */
export const QUANTITY_UNITS: Record<Kind, string[]> = {
  space: ['平方米', '间'],
  equipment: ['台', '套'],
  material: ['吨', '公斤', '件', '个'],
  logistics: ['车', '吨', '立方米'],
  workforce: ['人'],
  service: ['次', '项'],
}

export const PRICE_UNITS: Record<Kind, string[]> = {
  space: ['元/平方米/月', '元/月'],
  equipment: ['元/小时', '元/天', '元/台'],
  material: ['元/吨', '元/公斤', '元/件'],
  logistics: ['元/车', '元/吨'],
  workforce: ['元/人/天', '元/小时'],
  service: ['元/次', '元'],
}

export const URGENCY_LABEL: Record<string, string> = { normal: '普通', urgent: '加急', emergency: '紧急' }

export const FACTOR_LABEL: Record<string, string> = {
  text_relevance: '内容相关',
  kind_fit: '类别',
  spec_fit: '规格',
  quantity: '数量',
  price: '价格',
  time: '时间',
  available_now: '现货',
  distance: '距离',
  community: '同社区',
  verified: '已认证',
  freshness: '新鲜度',
}

export default definePageConfig({ navigationBarTitleText: '成交' })

export default definePageConfig({ navigationBarTitleText: '智企连', enablePullDownRefresh: true })

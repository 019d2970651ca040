export default defineAppConfig({
  pages: ['pages/home/index'],
  window: {
    navigationBarBackgroundColor: '#0b6e4f',
    navigationBarTitleText: '智企连',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f4f6f8',
  },
})
